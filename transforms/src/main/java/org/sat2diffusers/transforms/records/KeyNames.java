package org.sat2diffusers.transforms.records;

import java.util.List;

/** What a source's keys are, which decides where they are routed and which rules convert them. */
public enum KeyNames {
  /**
   * SAT state-dict keys: routed by prefix ({@code model.diffusion_model.}, {@code first_stage_model.},
   * {@code conditioner.embedders.0.transformer.}, or a bare VAE file), converted by each component's rules.
   */
  SAT,
  /**
   * The keys of a Diffusers {@code CogVideoXTransformer3DModel}, as trainers built on Diffusers hold it
   * (accelerate + DeepSpeed): all of it is the transformer, its names are kept.
   */
  DIFFUSERS_TRANSFORMER;

  /** The SAT prefixes (a full checkpoint's, a bare VAE's). */
  private static final List<String> SAT_PREFIXES = List.of("model.diffusion_model.", "first_stage_model.",
      "conditioner.embedders.0.transformer.", "encoder.", "decoder.", "loss.");
  /** The Diffusers transformer's blocks: every CogVideoX transformer has them, no SAT key starts so. */
  private static final String DIFFUSERS_BLOCKS = "transformer_blocks.";

  /**
   * The names of a source's keys, which its format does not say (a DeepSpeed engine checkpoint holds
   * whatever module the trainer wrapped, SAT's or Diffusers'): Diffusers transformer names when no key
   * carries a SAT prefix and some are the transformer's blocks; SAT otherwise, so that anything else
   * fails as unknown SAT keys, listed.
   */
  public static KeyNames of(List<String> keys) {
    boolean sat = keys.stream().anyMatch(k -> SAT_PREFIXES.stream().anyMatch(k::startsWith));
    return !sat && keys.stream().anyMatch(k -> k.startsWith(DIFFUSERS_BLOCKS)) ? DIFFUSERS_TRANSFORMER : SAT;
  }
}
