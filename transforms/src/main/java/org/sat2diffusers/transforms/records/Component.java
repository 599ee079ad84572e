package org.sat2diffusers.transforms.records;

/** A component folder of a Diffusers pipeline, with the file stem and default shard limit its library uses. */
public enum Component {
  TRANSFORMER("transformer", "diffusion_pytorch_model", 10_000_000_000L),
  VAE("vae", "diffusion_pytorch_model", 10_000_000_000L),
  TEXT_ENCODER("text_encoder", "model", 5_000_000_000L);

  private final String folder;
  private final String fileStem;
  private final long defaultMaxShardBytes;

  Component(String folder, String fileStem, long defaultMaxShardBytes) {
    this.folder = folder;
    this.fileStem = fileStem;
    this.defaultMaxShardBytes = defaultMaxShardBytes;
  }

  /** Folder name inside the pipeline folder, e.g. {@code text_encoder}. */
  public String folder() {
    return folder;
  }

  /** Weight file stem: {@code diffusion_pytorch_model} (Diffusers) or {@code model} (transformers). */
  public String fileStem() {
    return fileStem;
  }

  /** Diffusers saves models in 10 GB shards, transformers in 5 GB (decimal units). */
  public long defaultMaxShardBytes() {
    return defaultMaxShardBytes;
  }

  /** Parses a folder name ({@code transformer}, {@code vae}, {@code text_encoder}). */
  public static Component fromFolder(String folder) {
    for (Component c : values()) {
      if (c.folder.equals(folder)) {
        return c;
      }
    }
    throw new IllegalArgumentException(
        "unknown component '" + folder + "' (expected transformer, vae or text_encoder)");
  }
}
