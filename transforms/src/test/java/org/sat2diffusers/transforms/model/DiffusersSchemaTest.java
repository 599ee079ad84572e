package org.sat2diffusers.transforms.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.sat2diffusers.transforms.model.Fixtures.Case;
import org.sat2diffusers.transforms.records.Component;

class DiffusersSchemaTest {

  @ParameterizedTest
  @EnumSource(Case.class)
  void theModelOfEachFixtureConfigHoldsExactlyTheExpectedTensors(Case c) {
    int checked = 0;
    for (Component component : List.of(Component.TRANSFORMER, Component.VAE)) {
      if (c.shapes(component).isEmpty()) {
        continue;
      }
      Map<String, List<Long>> expected = DiffusersSchema.expected(component, c.expectedConfig(component));

      assertEquals(List.of(), DiffusersSchema.check(expected, c.shapes(component).get()), c + " " + component);
      checked++;
    }
    assertTrue(checked > 0);
  }

  @Test
  void aMissingProjectionIsNamed() {
    Map<String, List<Long>> actual = new LinkedHashMap<>(Case.LORA_5B.shapes(Component.TRANSFORMER).orElseThrow());
    actual.remove("transformer_blocks.2.attn1.to_k.weight");

    assertEquals(List.of("missing transformer_blocks.2.attn1.to_k.weight [16, 16]"), check(Case.LORA_5B, actual));
  }

  @Test
  void anExtraKeyAndAWrongShapeAreNamed() {
    Map<String, List<Long>> actual = new LinkedHashMap<>(Case.V15_I2V_LORA.shapes(Component.TRANSFORMER).orElseThrow());
    actual.put("patch_embed.pos_embedding", List.of(1L, 11L, 16L));
    actual.put("proj_out.weight", List.of(16L, 16L));

    assertEquals(List.of(
        "unexpected patch_embed.pos_embedding [1, 11, 16]",
        "shape of proj_out.weight is [16, 16], the model holds [32, 16]"), check(Case.V15_I2V_LORA, actual));
  }

  @Test
  void theLearnedTableMayHaveAnyLengthButNotAnyWidth() {
    Map<String, List<Long>> actual =
        new LinkedHashMap<>(Case.I2V_RELEASE_TRANSFORMER.shapes(Component.TRANSFORMER).orElseThrow());
    actual.put("patch_embed.pos_embedding", List.of(1L, 17776L, 16L));
    assertEquals(List.of(), check(Case.I2V_RELEASE_TRANSFORMER, actual));

    actual.put("patch_embed.pos_embedding", List.of(1L, 11L, 32L));
    assertEquals(List.of("shape of patch_embed.pos_embedding is [1, 11, 32], the model holds [1, *, 16]"),
        check(Case.I2V_RELEASE_TRANSFORMER, actual));
  }

  @Test
  void vaeChannelsFollowTheConfig() {
    Map<String, Object> config = new LinkedHashMap<>(Case.SFT_2B.expectedConfig(Component.VAE));
    config.put("latent_channels", 8);

    List<String> problems = DiffusersSchema.check(
        DiffusersSchema.vae(config), Case.SFT_2B.shapes(Component.VAE).orElseThrow());

    assertTrue(problems.contains(
        "shape of decoder.conv_in.conv.weight is [16, 4, 3, 3, 3], the model holds [16, 8, 3, 3, 3]"), problems.toString());
    assertTrue(problems.stream().allMatch(p -> p.startsWith("shape of ")), problems.toString());
  }

  @Test
  void quantConvsAreExpectedWhenTheConfigUsesThem() {
    Map<String, Object> config = new LinkedHashMap<>(Case.SFT_2B.expectedConfig(Component.VAE));
    config.put("use_quant_conv", true);

    assertEquals(List.of("missing quant_conv.weight [6, 6, 1, 1, 1]", "missing quant_conv.bias [6]"),
        DiffusersSchema.check(DiffusersSchema.vae(config), Case.SFT_2B.shapes(Component.VAE).orElseThrow()));
  }

  @Test
  void aConfigWithoutAFieldIsReported() {
    Map<String, Object> config = new LinkedHashMap<>(Case.SFT_2B.expectedConfig(Component.TRANSFORMER));
    config.remove("num_layers");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DiffusersSchema.transformer(config));
    assertEquals("transformer config has no 'num_layers'", e.getMessage());
  }

  private static List<String> check(Case c, Map<String, List<Long>> actual) {
    return DiffusersSchema.check(DiffusersSchema.transformer(c.expectedConfig(Component.TRANSFORMER)), actual);
  }
}
