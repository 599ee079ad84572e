package org.sat2diffusers.transforms.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.transforms.model.Fixtures;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.model.SatTrainingConfig;
import org.sat2diffusers.transforms.records.Component;

class PipelineConfigsTest {

  @Test
  void theSchedulerIsThePublishedOneWithTheFamilyShift() {
    Map<String, Object> s = SchedulerConfig.build(ModelFamily.COGVIDEOX_2B, Optional.empty());

    assertEquals(List.of("_class_name", "_diffusers_version", "beta_end", "beta_schedule", "beta_start", "clip_sample",
        "clip_sample_range", "num_train_timesteps", "prediction_type", "rescale_betas_zero_snr", "sample_max_value",
        "set_alpha_to_one", "snr_shift_scale", "steps_offset", "timestep_spacing", "trained_betas"), List.copyOf(s.keySet()));
    assertEquals("CogVideoXDDIMScheduler", s.get("_class_name"));
    assertEquals(3.0, s.get("snr_shift_scale"));
    assertEquals("v_prediction", s.get("prediction_type"));
    assertEquals(1.0, SchedulerConfig.build(ModelFamily.COGVIDEOX1_5_5B_I2V, Optional.empty()).get("snr_shift_scale"));
  }

  @Test
  void theSatConfigShiftWins() {
    SatTrainingConfig sat = SatTrainingConfig.parse(Fixtures.resource("sat-configs/cogvideox_5b_lora.yaml")
        .replace("shift_scale: 1.0", "shift_scale: 2.0"));

    assertEquals(2.0, SchedulerConfig.build(ModelFamily.COGVIDEOX_5B, Optional.of(sat)).get("snr_shift_scale"));
  }

  @Test
  void theModelIndexListsWrittenComponentsAndNullsTheOthers() {
    Map<String, Object> index = ModelIndex.build(ModelFamily.COGVIDEOX_5B_I2V, Set.of(Component.TRANSFORMER));

    assertEquals(List.of("_class_name", "_diffusers_version", "scheduler", "text_encoder", "tokenizer", "transformer",
        "vae"), List.copyOf(index.keySet()));
    assertEquals("CogVideoXImageToVideoPipeline", index.get("_class_name"));
    assertEquals(List.of("diffusers", "CogVideoXDDIMScheduler"), index.get("scheduler"));
    assertEquals(List.of("diffusers", "CogVideoXTransformer3DModel"), index.get("transformer"));
    assertEquals(Arrays.asList(null, null), index.get("vae"));
    assertEquals(Arrays.asList(null, null), index.get("text_encoder"));
    assertEquals(Arrays.asList(null, null), index.get("tokenizer"));
  }

  @Test
  void aTextToVideoPipelineWithEveryConvertedComponent() {
    Map<String, Object> index = ModelIndex.build(ModelFamily.COGVIDEOX_2B,
        Set.of(Component.TRANSFORMER, Component.VAE, Component.TEXT_ENCODER));

    assertEquals("CogVideoXPipeline", index.get("_class_name"));
    assertEquals(List.of("diffusers", "AutoencoderKLCogVideoX"), index.get("vae"));
    assertEquals(List.of("transformers", "T5EncoderModel"), index.get("text_encoder"));
  }
}
