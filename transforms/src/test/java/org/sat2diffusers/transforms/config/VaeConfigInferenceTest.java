package org.sat2diffusers.transforms.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.sat2diffusers.transforms.model.DiffusersSchema;
import org.sat2diffusers.transforms.model.Fixtures;
import org.sat2diffusers.transforms.model.Fixtures.Case;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.model.SatTrainingConfig;
import org.sat2diffusers.transforms.records.Component;

class VaeConfigInferenceTest {
  /** The fields testdata/README.md says the tensors determine. */
  static final List<String> TENSOR_FIELDS =
      List.of("block_out_channels", "latent_channels", "layers_per_block", "in_channels", "out_channels");

  @ParameterizedTest
  @EnumSource(value = Case.class, names = {"SFT_2B", "I2V_RELEASE_VAE"})
  void tensorFieldsEqualTheConfigDiffusersWroteForTheFixture(Case c) {
    Map<String, List<Long>> shapes = c.shapes(Component.VAE).orElseThrow();
    Map<String, Object> config = VaeConfigInference.infer(shapes, c.family, Optional.empty());
    Map<String, Object> expected = c.expectedConfig(Component.VAE);

    for (String field : TENSOR_FIELDS) {
      assertEquals(expected.get(field), config.get(field), c + ": " + field);
    }
    assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(config.keySet()));
    assertEquals(List.of(), DiffusersSchema.check(DiffusersSchema.vae(config), shapes));
  }

  @Test
  void thePublishedVaeGivesBackItsPublishedConfig() {
    Map<String, Object> published = Fixtures.jsonResource("published/cogvideox.vae.json");

    Map<String, Object> config = new LinkedHashMap<>(
        VaeConfigInference.infer(DiffusersSchema.vae(published), ModelFamily.COGVIDEOX_2B, Optional.empty()));

    assertEquals(SavedConfig.DIFFUSERS_VERSION, config.remove("_diffusers_version"));
    assertEquals(published, config);
  }

  @Test
  void scalingComesFromTheFamilyOrTheSatConfig() {
    Map<String, List<Long>> shapes = Case.SFT_2B.shapes(Component.VAE).orElseThrow();

    Map<String, Object> v15 = VaeConfigInference.infer(shapes, ModelFamily.COGVIDEOX1_5_5B, Optional.empty());
    assertEquals(0.7, v15.get("scaling_factor"));
    assertEquals(true, v15.get("invert_scale_latents"));

    SatTrainingConfig sat = SatTrainingConfig.parse(
        Fixtures.resource("sat-configs/cogvideox_2b.yaml").replace("scale_factor: 1.15258426", "scale_factor: 0.9"));
    assertEquals(0.9, VaeConfigInference.infer(shapes, ModelFamily.COGVIDEOX_2B, Optional.of(sat)).get("scaling_factor"));
  }
}
