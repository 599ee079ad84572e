package org.sat2diffusers.transforms.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.sat2diffusers.transforms.model.Detection;
import org.sat2diffusers.transforms.model.DiffusersSchema;
import org.sat2diffusers.transforms.model.Fixtures;
import org.sat2diffusers.transforms.model.Fixtures.Case;
import org.sat2diffusers.transforms.model.ModelDetector;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.model.SatTrainingConfig;
import org.sat2diffusers.transforms.records.Component;

class TransformerConfigInferenceTest {
  /** The fields testdata/README.md says the tensors determine. */
  static final List<String> TENSOR_FIELDS = List.of("num_layers", "num_attention_heads", "attention_head_dim",
      "in_channels", "out_channels", "time_embed_dim", "text_embed_dim", "patch_size", "patch_size_t",
      "ofs_embed_dim", "use_rotary_positional_embeddings", "use_learned_positional_embeddings");

  @ParameterizedTest
  @EnumSource(value = Case.class, names = {"SFT_2B", "SFT_2B_500", "LORA_5B", "I2V_RELEASE_TRANSFORMER", "V15_I2V_LORA"})
  void tensorFieldsEqualTheConfigDiffusersWroteForTheFixture(Case c) {
    Map<String, Object> config = inferAsThePipelineWould(c).config();
    Map<String, Object> expected = c.expectedConfig(Component.TRANSFORMER);

    for (String field : TENSOR_FIELDS) {
      assertEquals(expected.get(field), config.get(field), c + ": " + field);
    }
    assertEquals(expected.keySet(), config.keySet(), "every constructor field, nothing else");
    assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(config.keySet()), "keys sorted as Diffusers writes them");
  }

  @ParameterizedTest
  @EnumSource(value = Case.class, names = {"SFT_2B", "LORA_5B", "I2V_RELEASE_TRANSFORMER", "V15_I2V_LORA"})
  void theInferredConfigDescribesExactlyTheConvertedTensors(Case c) {
    Map<String, Object> config = inferAsThePipelineWould(c).config();

    assertEquals(List.of(), DiffusersSchema.check(
        DiffusersSchema.transformer(config), c.shapes(Component.TRANSFORMER).orElseThrow()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"cogvideox-2b", "cogvideox-5b-i2v", "cogvideox1.5-5b-i2v"})
  void aPublishedModelGivesBackItsPublishedConfig(String name) {
    Map<String, Object> published = Fixtures.jsonResource("published/" + name + ".transformer.json");
    Map<String, List<Long>> shapes = new LinkedHashMap<>(DiffusersSchema.transformer(published));
    // the SAT checkpoints carry the table: frozen sincos (2B) or learned (5B-I2V), 226 text rows + 30*45*13 patches
    long hidden = (Integer) published.get("num_attention_heads") * 64L;
    if (!name.startsWith("cogvideox1.5")) {
      shapes.put("patch_embed.pos_embedding", List.of(1L, 226L + 30 * 45 * 13, hidden));
    }

    Detection d = ModelDetector.detect(shapes, Optional.empty(), Optional.empty());
    TransformerConfigInference.Result r = TransformerConfigInference.infer(shapes, d.family(), Optional.empty());

    assertEquals(ModelFamily.fromCliName(name), d.family());
    Map<String, Object> config = new LinkedHashMap<>(r.config());
    assertEquals(SavedConfig.DIFFUSERS_VERSION, config.remove("_diffusers_version"));
    assertEquals(published, config);
    assertEquals(List.of(), r.warnings());
  }

  @Test
  void aLearnedTableTheFamilySizesDoNotFitIsWarnedAbout() {
    TransformerConfigInference.Result r = inferAsThePipelineWould(Case.I2V_RELEASE_TRANSFORMER);

    assertEquals(List.of("patch_embed.pos_embedding has 11 rows but sample 60x90x49 with 226 text tokens needs 17776:"
        + " Diffusers will not load it with this config; pass --sat-config with the training YAML"), r.warnings());
  }

  @Test
  void theSatConfigSuppliesTheSampleSizesTheTableWasMadeFor() {
    SatTrainingConfig sat = SatTrainingConfig.parse(Fixtures.resource("sat-configs/tiny_5b_i2v.yaml"));
    Map<String, List<Long>> shapes = Case.I2V_RELEASE_TRANSFORMER.transformerBeforeTableDrop();

    TransformerConfigInference.Result r = TransformerConfigInference.infer(
        shapes, ModelDetector.detect(shapes, Optional.empty(), Optional.of(sat)).family(), Optional.of(sat));

    Map<String, Object> expected = new LinkedHashMap<>(Case.I2V_RELEASE_TRANSFORMER.expectedConfig(Component.TRANSFORMER));
    Map<String, Object> config = new LinkedHashMap<>(r.config());
    expected.remove("_diffusers_version");
    config.remove("_diffusers_version");
    assertEquals(expected, config, "with the sizes of its training YAML the tiny model's config is Diffusers' own");
    assertEquals(List.of(), r.warnings());
  }

  @Test
  void theTensorsWinOverADisagreeingSatConfig() {
    SatTrainingConfig sat = SatTrainingConfig.parse(Fixtures.resource("sat-configs/tiny_5b_lora.yaml"));

    TransformerConfigInference.Result r = TransformerConfigInference.infer(
        Case.LORA_5B.transformerBeforeTableDrop(), ModelFamily.COGVIDEOX_5B, Optional.of(sat));

    assertEquals(3, r.config().get("num_layers"));
    assertEquals(List.of("the SAT config says num_layers 4 but the tensors give 3: the tensors are used"), r.warnings());
  }

  @Test
  void aHiddenSizeThatIsNoMultipleOfTheHeadSizeIsReported() {
    Map<String, List<Long>> shapes = new LinkedHashMap<>(Case.SFT_2B.transformerBeforeTableDrop());
    shapes.put("transformer_blocks.0.attn1.norm_q.weight", List.of(5L));

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TransformerConfigInference.infer(shapes, ModelFamily.COGVIDEOX_2B, Optional.empty()));
    assertEquals("transformer: hidden size / head size (attn1.norm_q): 16 is not a multiple of 5", e.getMessage());
  }

  @Test
  void layersMustBeNumberedWithoutGaps() {
    Map<String, List<Long>> shapes = new LinkedHashMap<>(Case.LORA_5B.transformerBeforeTableDrop());
    shapes.keySet().removeIf(k -> k.startsWith("transformer_blocks.1."));

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TransformerConfigInference.infer(shapes, ModelFamily.COGVIDEOX_5B, Optional.empty()));
    assertEquals("transformer: 'transformer_blocks.<i>.' has no tensors for i = [1] (found up to 2)", e.getMessage());
  }

  @Test
  void the15ModelTakesItsPatchSizesFromTheFamily() {
    Map<String, Object> config = inferAsThePipelineWould(Case.V15_I2V_LORA).config();

    assertEquals(false, config.get("patch_bias"));
    assertEquals(300, config.get("sample_height"));
    assertEquals(81, config.get("sample_frames"));
  }

  /** Detection as fixtures.sh converts each fixture (auto, or --model cogvideox-5b for the LoRA one). */
  private static TransformerConfigInference.Result inferAsThePipelineWould(Case c) {
    Map<String, List<Long>> shapes = c.transformerBeforeTableDrop();
    Optional<ModelFamily> requested = c == Case.LORA_5B ? Optional.of(ModelFamily.COGVIDEOX_5B) : Optional.empty();
    ModelFamily family = ModelDetector.detect(shapes, requested, Optional.empty()).family();
    return TransformerConfigInference.infer(shapes, family, Optional.empty());
  }
}
