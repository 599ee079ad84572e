package org.sat2diffusers.transforms.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.model.SatTrainingConfig;

/**
 * The {@code scheduler/scheduler_config.json} of the published CogVideoX pipelines: a
 * CogVideoXDDIMScheduler (v-prediction, zero terminal SNR, trailing timesteps) whose SNR shift is
 * the family's, or the one the SAT YAML trained with.
 */
public final class SchedulerConfig {
  static final String CLASS_NAME = "CogVideoXDDIMScheduler";

  private SchedulerConfig() {}

  public static Map<String, Object> build(ModelFamily family, Optional<SatTrainingConfig> sat) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("snr_shift_scale", sat.flatMap(SatTrainingConfig::snrShiftScale).orElse(family.snrShiftScale()));
    f.put("beta_start", 0.00085);
    f.put("beta_end", 0.012);
    f.put("beta_schedule", "scaled_linear");
    f.put("trained_betas", null);
    f.put("clip_sample", false);
    f.put("clip_sample_range", 1.0);
    f.put("sample_max_value", 1.0);
    f.put("num_train_timesteps", 1000);
    f.put("prediction_type", "v_prediction");
    f.put("rescale_betas_zero_snr", true);
    f.put("set_alpha_to_one", true);
    f.put("steps_offset", 0);
    f.put("timestep_spacing", "trailing");
    return SavedConfig.diffusers(CLASS_NAME, f);
  }
}
