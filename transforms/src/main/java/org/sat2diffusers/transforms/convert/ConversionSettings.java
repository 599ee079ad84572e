package org.sat2diffusers.transforms.convert;

import java.io.Serializable;
import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.transforms.plan.Component;
import org.sat2diffusers.transforms.plan.UnknownKeys;

/**
 * What a user chose for one conversion job.
 *
 * @param loraAlpha SAT lora2 alpha (not stored in checkpoints), or null for the --sat-config's
 *     lora_alpha, else SAT's default of 1
 * @param dtype target dtype of the transformer and text encoder, or null to keep each tensor's
 * @param vaeDtype target dtype of the VAE, or null to keep (fp32 in practice)
 * @param maxShardBytes shard size limit for every component, or 0 for each library's default
 * @param model {@code auto} or a family name such as {@code cogvideox-5b}
 * @param satConfigYaml the text of the SAT training YAML, or null
 * @param components the components to write; empty for all the checkpoint holds
 * @param unknownKeys what becomes of source keys no rule knows (default: fail, listing them)
 */
public record ConversionSettings(
    Double loraAlpha,
    Dtype dtype,
    Dtype vaeDtype,
    long maxShardBytes,
    String model,
    String satConfigYaml,
    List<Component> components,
    UnknownKeys unknownKeys)
    implements Serializable {
  public ConversionSettings {
    components = List.copyOf(components);
    unknownKeys = unknownKeys == null ? UnknownKeys.FAIL : unknownKeys;
  }

  /** The settings with the default of the options added later: unknown keys fail. */
  public ConversionSettings(
      Double loraAlpha, Dtype dtype, Dtype vaeDtype, long maxShardBytes, String model, String satConfigYaml,
      List<Component> components) {
    this(loraAlpha, dtype, vaeDtype, maxShardBytes, model, satConfigYaml, components, UnknownKeys.FAIL);
  }

  public static ConversionSettings defaults() {
    return new ConversionSettings(null, null, null, 0, "auto", null, List.of());
  }

  /** Whether this job writes the component (all are written when none was named). */
  public boolean selects(Component component) {
    return components.isEmpty() || components.contains(component);
  }

  /** True when only some components were asked for: the pipeline-level files are then left to the base model. */
  public boolean isPartial() {
    return !components.isEmpty();
  }
}
