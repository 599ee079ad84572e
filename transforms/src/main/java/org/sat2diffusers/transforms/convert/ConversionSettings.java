package org.sat2diffusers.transforms.convert;

import java.io.Serializable;
import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.transforms.adapter.LoraMode;
import org.sat2diffusers.transforms.config.BasePipeline;
import org.sat2diffusers.transforms.records.Component;

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
 * @param basePipeline the base model's Diffusers folder supplying the components the conversion does
 *     not write, or null
 * @param loraMode merge SAT lora2 weights, export them as a Diffusers adapter file, or both
 * @param loraFoldScale with an adapter file: fold alpha / r into B (the file's lora_alpha is then r)
 * @param checkFinite count NaN and infinite values of every written tensor into the report
 * @param failOnNonfinite commit nothing when a written tensor holds NaN or infinity (implies checkFinite)
 * @param digest the checksum the report keeps of each written header and tensor (default CRC-32C)
 * @param weights which weights of a DeepSpeed ZeRO checkpoint to convert (default the module's)
 */
public record ConversionSettings(
    Double loraAlpha,
    Dtype dtype,
    Dtype vaeDtype,
    long maxShardBytes,
    String model,
    String satConfigYaml,
    List<Component> components,
    UnknownKeys unknownKeys,
    BasePipeline basePipeline,
    LoraMode loraMode,
    boolean loraFoldScale,
    boolean checkFinite,
    boolean failOnNonfinite,
    Digest digest,
    Weights weights)
    implements Serializable {
  public ConversionSettings {
    components = List.copyOf(components);
    unknownKeys = unknownKeys == null ? UnknownKeys.FAIL : unknownKeys;
    loraMode = loraMode == null ? LoraMode.MERGE : loraMode;
    checkFinite = checkFinite || failOnNonfinite;
    digest = digest == null ? Digest.CRC32C : digest;
    weights = weights == null ? Weights.MODULE : weights;
  }

  /**
   * Settings with the defaults of the later options: unknown keys fail, no base pipeline, LoRA merged,
   * no NaN/infinity count, CRC-32C digests.
   */
  public ConversionSettings(
      Double loraAlpha, Dtype dtype, Dtype vaeDtype, long maxShardBytes, String model, String satConfigYaml,
      List<Component> components) {
    this(loraAlpha, dtype, vaeDtype, maxShardBytes, model, satConfigYaml, components, UnknownKeys.FAIL, null,
        LoraMode.MERGE, false, false, false, Digest.CRC32C, Weights.MODULE);
  }

  public static ConversionSettings defaults() {
    return new ConversionSettings(null, null, null, 0, "auto", null, List.of());
  }

  public ConversionSettings withUnknownKeys(UnknownKeys policy) {
    return new ConversionSettings(loraAlpha, dtype, vaeDtype, maxShardBytes, model, satConfigYaml, components, policy,
        basePipeline, loraMode, loraFoldScale, checkFinite, failOnNonfinite, digest, weights);
  }

  public ConversionSettings withBasePipeline(BasePipeline base) {
    return new ConversionSettings(loraAlpha, dtype, vaeDtype, maxShardBytes, model, satConfigYaml, components,
        unknownKeys, base, loraMode, loraFoldScale, checkFinite, failOnNonfinite, digest, weights);
  }

  /** These settings with another LoRA mode and fold choice. */
  public ConversionSettings withLoraExport(LoraMode mode, boolean foldScale) {
    return new ConversionSettings(loraAlpha, dtype, vaeDtype, maxShardBytes, model, satConfigYaml, components,
        unknownKeys, basePipeline, mode, foldScale, checkFinite, failOnNonfinite, digest, weights);
  }

  /** These settings with other checks of the written tensors and another digest. */
  public ConversionSettings withOutputChecks(boolean checkNonFinite, boolean failOnNonFinite, Digest newDigest) {
    return new ConversionSettings(loraAlpha, dtype, vaeDtype, maxShardBytes, model, satConfigYaml, components,
        unknownKeys, basePipeline, loraMode, loraFoldScale, checkNonFinite, failOnNonFinite, newDigest, weights);
  }

  /** These settings converting the other weights of a ZeRO checkpoint. */
  public ConversionSettings withWeights(Weights choice) {
    return new ConversionSettings(loraAlpha, dtype, vaeDtype, maxShardBytes, model, satConfigYaml, components,
        unknownKeys, basePipeline, loraMode, loraFoldScale, checkFinite, failOnNonfinite, digest, choice);
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
