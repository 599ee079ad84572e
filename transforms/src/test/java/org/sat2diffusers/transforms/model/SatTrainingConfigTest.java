package org.sat2diffusers.transforms.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.transforms.model.SatTrainingConfig.Lora;

class SatTrainingConfigTest {

  @Test
  void readsThe2bModelConfig() {
    SatTrainingConfig c = SatTrainingConfig.parse(Fixtures.resource("sat-configs/cogvideox_2b.yaml"));

    assertEquals(Optional.of(30), c.numLayers());
    assertEquals(Optional.of(1920), c.hiddenSize());
    assertEquals(Optional.of(30), c.numAttentionHeads());
    assertEquals(Optional.of(16), c.inChannels());
    assertEquals(Optional.of(16), c.outChannels());
    assertEquals(Optional.of(512), c.timeEmbedDim());
    assertEquals(Optional.empty(), c.ofsEmbedDim());
    assertEquals(Optional.of(4096), c.textEmbedDim());
    assertEquals(Optional.of(2), c.patchSize());
    assertEquals(Optional.empty(), c.patchSizeT());
    assertEquals(Optional.of(60), c.latentHeight());
    assertEquals(Optional.of(90), c.latentWidth());
    assertEquals(Optional.of(49), c.numFrames());
    assertEquals(Optional.of(4), c.timeCompressedRate());
    assertEquals(Optional.of(226), c.textLength());
    assertEquals(Optional.of(PositionEmbedding.SINCOS), c.positions());
    assertEquals(Optional.empty(), c.lora());
    assertEquals(Optional.of(1.15258426), c.vaeScalingFactor());
    assertEquals(Optional.of(3.0), c.snrShiftScale());
  }

  @Test
  void readsRotaryPositionsAndLoraRankWithSatsDefaultAlpha() {
    SatTrainingConfig c = SatTrainingConfig.parse(Fixtures.resource("sat-configs/cogvideox_5b_lora.yaml"));

    assertEquals(Optional.of(PositionEmbedding.ROTARY), c.positions());
    assertEquals(Optional.of(new Lora(128, 1.0)), c.lora());
    assertEquals(Optional.of(3072), c.hiddenSize());
    assertEquals(Optional.of(1.0), c.snrShiftScale());
    assertEquals(Optional.of(ModelFamily.COGVIDEOX_5B), ModelDetector.familyOf(c));
  }

  @Test
  void readsTemporalPatchesAndOfsOfThe15I2vConfig() {
    SatTrainingConfig c = SatTrainingConfig.parse(Fixtures.resource("sat-configs/cogvideox1.5_5b_i2v.yaml"));

    assertEquals(Optional.of(2), c.patchSize());
    assertEquals(Optional.of(2), c.patchSizeT());
    assertEquals(Optional.of(512), c.ofsEmbedDim());
    assertEquals(Optional.of(32), c.inChannels());
    assertEquals(Optional.of(300), c.latentHeight());
    assertEquals(Optional.of(81), c.numFrames());
    assertEquals(Optional.of(224), c.textLength());
    assertEquals(Optional.empty(), c.snrShiftScale());
    assertEquals(Optional.of(ModelFamily.COGVIDEOX1_5_5B_I2V), ModelDetector.familyOf(c));
  }

  @Test
  void readsALearnedTableAndAnExplicitLoraAlpha() {
    SatTrainingConfig i2v = SatTrainingConfig.parse(Fixtures.resource("sat-configs/tiny_5b_i2v.yaml"));
    SatTrainingConfig lora = SatTrainingConfig.parse(Fixtures.resource("sat-configs/tiny_5b_lora.yaml"));

    assertEquals(Optional.of(PositionEmbedding.ROTARY_AND_LEARNED), i2v.positions());
    assertEquals(Optional.of(ModelFamily.COGVIDEOX_5B_I2V), ModelDetector.familyOf(i2v));
    assertEquals(Optional.of(new Lora(4, 4.0)), lora.lora());
  }

  @Test
  void aTrainingArgumentsFileWithoutTheModelIsRefused() {
    ModelInferenceException e = assertThrows(ModelInferenceException.class,
        () -> SatTrainingConfig.parse("args:\n  train_iters: 1000\n", "sft.yaml"));

    assertEquals("sft.yaml: no model.network_config: pass the model YAML (e.g. cogvideox_5b_lora.yaml),"
        + " not only the training arguments", e.getMessage());
  }

  @Test
  void wrongValuesAreNamedByTheirPath() {
    String yaml = Fixtures.resource("sat-configs/cogvideox_2b.yaml");

    ModelInferenceException layers = assertThrows(ModelInferenceException.class,
        () -> SatTrainingConfig.parse(yaml.replace("num_layers: 30", "num_layers: thirty"), "a.yaml"));
    assertEquals("a.yaml: model.network_config.params.num_layers is 'thirty', expected an integer", layers.getMessage());

    ModelInferenceException mixin = assertThrows(ModelInferenceException.class, () -> SatTrainingConfig.parse(
        yaml.replace("Basic3DPositionEmbeddingMixin", "Learned2DMixin"), "a.yaml"));
    assertEquals("a.yaml: model.network_config.params.modules.pos_embed_config.target is"
        + " 'dit_video_concat.Learned2DMixin', expected Basic3DPositionEmbeddingMixin or"
        + " Rotary3DPositionEmbeddingMixin", mixin.getMessage());

    ModelInferenceException patch = assertThrows(ModelInferenceException.class,
        () -> SatTrainingConfig.parse(yaml.replace("patch_size: 2", "patch_size: [1, 2, 4]"), "a.yaml"));
    assertEquals("a.yaml: model.network_config.params.patch_size is [1, 2, 4], expected [t, p, p]", patch.getMessage());

    ModelInferenceException syntax = assertThrows(ModelInferenceException.class,
        () -> SatTrainingConfig.parse("model: [unclosed", "a.yaml"));
    assertEquals(true, syntax.getMessage().startsWith("a.yaml: not valid YAML: "), syntax.getMessage());
  }
}
