package org.sat2diffusers.transforms.convert;

import java.io.Serializable;
import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.transforms.adapter.LoraMode;
import org.sat2diffusers.transforms.plan.Component;

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
 * @param loraMode merge SAT lora2 weights, export them as a Diffusers adapter file, or both
 * @param loraFoldScale with an adapter file: fold alpha / r into B (the file's lora_alpha is then r)
 */
public record ConversionSettings(
    Double loraAlpha,
    Dtype dtype,
    Dtype vaeDtype,
    long maxShardBytes,
    String model,
    String satConfigYaml,
    List<Component> components,
    LoraMode loraMode,
    boolean loraFoldScale)
    implements Serializable {
  public ConversionSettings {
    components = List.copyOf(components);
    if (loraMode == null) {
      throw new IllegalArgumentException("a LoRA mode is required (merge, adapter or both)");
    }
  }

  /** Settings that merge LoRA weights (the default mode). */
  public ConversionSettings(
      Double loraAlpha, Dtype dtype, Dtype vaeDtype, long maxShardBytes, String model, String satConfigYaml,
      List<Component> components) {
    this(loraAlpha, dtype, vaeDtype, maxShardBytes, model, satConfigYaml, components, LoraMode.MERGE, false);
  }

  public static ConversionSettings defaults() {
    return new ConversionSettings(null, null, null, 0, "auto", null, List.of());
  }

  /** These settings with another LoRA mode and fold choice. */
  public ConversionSettings withLoraExport(LoraMode mode, boolean foldScale) {
    return new ConversionSettings(
        loraAlpha, dtype, vaeDtype, maxShardBytes, model, satConfigYaml, components, mode, foldScale);
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
