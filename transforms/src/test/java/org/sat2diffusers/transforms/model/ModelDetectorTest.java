package org.sat2diffusers.transforms.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.sat2diffusers.transforms.model.Fixtures.Case;

class ModelDetectorTest {

  @ParameterizedTest
  @EnumSource(value = Case.class, names = {"SFT_2B", "I2V_RELEASE_TRANSFORMER", "V15_I2V_LORA"})
  void autoDetectsTheFixtureFamilyFromItsTensors(Case c) {
    Detection d = ModelDetector.detect(c.transformerBeforeTableDrop(), Optional.empty(), Optional.empty());

    assertEquals(c.family, d.family());
    assertTrue(d.reason().startsWith("auto: ") && d.reason().contains(c.family.displayName()), d.reason());
  }

  @Test
  void autoSaysWhyForALearnedTable() {
    Detection d = ModelDetector.detect(
        Case.I2V_RELEASE_TRANSFORMER.transformerBeforeTableDrop(), Optional.empty(), Optional.empty());

    assertEquals("auto: patch_embed.pos_embedding [1, 11, 16] with in_channels 8 = 2 x out_channels 4"
        + " (a learned table of an image-to-video model): CogVideoX-5B-I2V", d.reason());
  }

  @Test
  void theLoraFixtureIsUndecidableAndTheErrorAsksForModelOrSatConfig() {
    UndecidableModelException e = assertThrows(UndecidableModelException.class, () -> ModelDetector.detect(
        Case.LORA_5B.transformerBeforeTableDrop(), Optional.empty(), Optional.empty()));

    assertTrue(e.getMessage().contains("hidden size 16"), e.getMessage());
    assertTrue(e.getMessage().contains("--model " + ModelFamily.cliNames()), e.getMessage());
    assertTrue(e.getMessage().contains("--sat-config"), e.getMessage());
  }

  @Test
  void aRequestedFamilyIsUsedWhenItFitsTheTensors() {
    Detection d = ModelDetector.detect(
        Case.LORA_5B.transformerBeforeTableDrop(), Optional.of(ModelFamily.COGVIDEOX_5B), Optional.empty());

    assertEquals(new Detection(ModelFamily.COGVIDEOX_5B, "--model cogvideox-5b"), d);
  }

  @Test
  void aRequestedFamilyWithTheOtherPatchEmbeddingIsRefused() {
    ModelInferenceException e = assertThrows(ModelInferenceException.class, () -> ModelDetector.detect(
        Case.SFT_2B.transformerBeforeTableDrop(), Optional.of(ModelFamily.COGVIDEOX1_5_5B), Optional.empty()));

    assertEquals("--model cogvideox1.5-5b names CogVideoX1.5-5B, but the tensors have a Conv2d patch embedding"
        + " (patch_embed.proj.weight [16, 4, 2, 2]) where it has a Linear", e.getMessage());
  }

  @Test
  void aRequestedFamilyMustAgreeOnTheOfsEmbeddingAndThePositionTable() {
    Map<String, List<Long>> v15 = Case.V15_I2V_LORA.transformerBeforeTableDrop();
    ModelInferenceException ofs = assertThrows(ModelInferenceException.class,
        () -> ModelDetector.detect(v15, Optional.of(ModelFamily.COGVIDEOX1_5_5B), Optional.empty()));
    assertTrue(ofs.getMessage().contains("ofs_embedding.linear_1.weight"), ofs.getMessage());

    Map<String, List<Long>> i2v = Case.I2V_RELEASE_TRANSFORMER.transformerBeforeTableDrop();
    ModelInferenceException rotary = assertThrows(ModelInferenceException.class,
        () -> ModelDetector.detect(i2v, Optional.of(ModelFamily.COGVIDEOX_5B), Optional.empty()));
    assertTrue(rotary.getMessage().contains("position table (patch_embed.pos_embedding [1, 11, 16])"), rotary.getMessage());

    Map<String, List<Long>> lora = Case.LORA_5B.transformerBeforeTableDrop();
    ModelInferenceException learned = assertThrows(ModelInferenceException.class,
        () -> ModelDetector.detect(lora, Optional.of(ModelFamily.COGVIDEOX_5B_I2V), Optional.empty()));
    assertTrue(learned.getMessage().contains("learned position table patch_embed.pos_embedding is missing"),
        learned.getMessage());
  }

  @Test
  void theSatConfigDecidesWhenTheTensorsCannot() {
    SatTrainingConfig sat = SatTrainingConfig.parse(Fixtures.resource("sat-configs/tiny_5b_lora.yaml"));

    Detection d = ModelDetector.detect(Case.LORA_5B.transformerBeforeTableDrop(), Optional.empty(), Optional.of(sat));

    assertEquals(ModelFamily.COGVIDEOX_5B, d.family());
    assertEquals("SAT config: position mixin ROTARY means CogVideoX-5B", d.reason());
  }

  @Test
  void aPublishedHiddenSizeDecidesWithoutATable() {
    for (ModelFamily f : List.of(ModelFamily.COGVIDEOX_2B, ModelFamily.COGVIDEOX_5B)) {
      Map<String, Object> config = new LinkedHashMap<>(Fixtures.jsonResource("published/cogvideox-2b.transformer.json"));
      config.put("num_attention_heads", f.hiddenSize() / 64);
      config.put("num_layers", 2);
      Map<String, List<Long>> shapes = DiffusersSchema.transformer(config);

      Detection d = ModelDetector.detect(shapes, Optional.empty(), Optional.empty());

      assertEquals(f, d.family());
      assertEquals("auto: no position table, hidden size " + f.hiddenSize() + " as in " + f.displayName(), d.reason());
    }
  }

  @Test
  void aPatchEmbeddingOfAnotherRankIsReported() {
    Map<String, List<Long>> shapes = new LinkedHashMap<>(Case.SFT_2B.transformerBeforeTableDrop());
    shapes.put("patch_embed.proj.weight", List.of(16L, 4L, 2L));

    ModelInferenceException e = assertThrows(ModelInferenceException.class,
        () -> ModelDetector.detect(shapes, Optional.empty(), Optional.empty()));
    assertTrue(e.getMessage().startsWith("transformer: tensor 'patch_embed.proj.weight' has shape [16, 4, 2]"),
        e.getMessage());
  }

  @Test
  void cliNamesParseAndUnknownOnesAreListed() {
    for (ModelFamily f : ModelFamily.values()) {
      assertEquals(f, ModelFamily.fromCliName(f.cliName()));
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFamily.fromCliName("cogvideox-7b"));
    assertEquals("unknown --model 'cogvideox-7b': expected auto|cogvideox-2b|cogvideox-5b|cogvideox-5b-i2v"
        + "|cogvideox1.5-5b|cogvideox1.5-5b-i2v", e.getMessage());
  }
}
