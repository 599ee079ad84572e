package org.sat2diffusers.transforms.adapter;

/** What a conversion makes of SAT lora2 weights. */
public enum LoraMode {
  /** Merge them into the transformer's weights (the default). */
  MERGE,
  /** Keep the frozen weights and write the LoRA as a Diffusers adapter file beside them. */
  ADAPTER,
  /** Merge them, and also write the adapter file (for use with the base model). */
  BOTH;

  /** Parses {@code merge}, {@code adapter} or {@code both}. */
  public static LoraMode fromCliName(String name) {
    for (LoraMode m : values()) {
      if (m.cliName().equals(name)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown LoRA mode '" + name + "' (expected merge, adapter or both)");
  }

  public String cliName() {
    return name().toLowerCase();
  }

  /** Whether the transformer's weights carry the LoRA update. */
  public boolean merges() {
    return this != ADAPTER;
  }

  /** Whether an adapter file is written. */
  public boolean exportsAdapter() {
    return this != MERGE;
  }
}
