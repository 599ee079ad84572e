package org.sat2diffusers.transforms.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.transforms.model.DiffusersSchema;
import org.sat2diffusers.transforms.model.Fixtures;
import org.sat2diffusers.transforms.model.Fixtures.Case;
import org.sat2diffusers.transforms.records.Component;

class T5ConfigInferenceTest {

  @ParameterizedTest
  @EnumSource(value = Case.class, names = {"SFT_2B", "V15_I2V_LORA"})
  void readsTheSizesOfTheFixtureEncoder(Case c) {
    Map<String, List<Long>> shapes = c.shapes(Component.TEXT_ENCODER).orElseThrow();

    Map<String, Object> config = T5ConfigInference.infer(shapes, Dtype.BF16);

    // shared.weight [40, 12], relative_attention_bias [32, 3], q [12, 12], wi_0 [20, 12]
    assertEquals(40, config.get("vocab_size"));
    assertEquals(12, config.get("d_model"));
    assertEquals(3, config.get("num_heads"));
    assertEquals(4, config.get("d_kv"));
    assertEquals(20, config.get("d_ff"));
    assertEquals(32, config.get("relative_attention_num_buckets"));
    assertEquals(2, config.get("num_layers"));
    assertEquals("gated-gelu", config.get("feed_forward_proj"));
    assertEquals("bfloat16", config.get("torch_dtype"));
    assertEquals(List.of(), DiffusersSchema.check(DiffusersSchema.textEncoder(config), shapes));
  }

  @Test
  void thePublishedEncoderGivesBackItsPublishedConfig() {
    Map<String, Object> published = Fixtures.jsonResource("published/t5-v1_1-xxl.text_encoder.json");

    Map<String, Object> config = new LinkedHashMap<>(
        T5ConfigInference.infer(DiffusersSchema.textEncoder(published), Dtype.BF16));

    assertEquals(SavedConfig.TRANSFORMERS_VERSION, config.remove("transformers_version"));
    assertEquals(published, config);
    assertEquals(List.copyOf(published.keySet()), List.copyOf(config.keySet()));
  }

  @Test
  void anUngatedFeedForwardIsRelu() {
    Map<String, List<Long>> shapes = new LinkedHashMap<>(Case.SFT_2B.shapes(Component.TEXT_ENCODER).orElseThrow());
    for (int i = 0; i < 2; i++) {
      String ff = "encoder.block." + i + ".layer.1.DenseReluDense.";
      shapes.put(ff + "wi.weight", shapes.remove(ff + "wi_0.weight"));
      shapes.remove(ff + "wi_1.weight");
    }

    Map<String, Object> config = T5ConfigInference.infer(shapes, Dtype.F32);

    assertEquals("relu", config.get("feed_forward_proj"));
    assertEquals(false, config.get("is_gated_act"));
    assertEquals(List.of(), DiffusersSchema.check(DiffusersSchema.textEncoder(config), shapes));
  }

  @Test
  void aMissingTiedAliasIsExpectedButAStrayOneIsReported() {
    Map<String, List<Long>> shapes = new LinkedHashMap<>(Case.SFT_2B.shapes(Component.TEXT_ENCODER).orElseThrow());
    Map<String, Object> config = T5ConfigInference.infer(shapes, Dtype.BF16);
    shapes.put("encoder.embed_tokens.weight", List.of(40L, 12L));

    assertEquals(List.of("unexpected encoder.embed_tokens.weight [40, 12]"),
        DiffusersSchema.check(DiffusersSchema.textEncoder(config), shapes));
  }

  @Test
  void integerWeightsAreNotAT5() {
    Map<String, List<Long>> shapes = Case.SFT_2B.shapes(Component.TEXT_ENCODER).orElseThrow();

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> T5ConfigInference.infer(shapes, Dtype.I8));
    assertEquals("text_encoder: weights of dtype I8 are not a T5 model's", e.getMessage());
  }
}
