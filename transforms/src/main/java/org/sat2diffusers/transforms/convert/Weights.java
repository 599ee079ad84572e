package org.sat2diffusers.transforms.convert;

/**
 * Which weights of a DeepSpeed ZeRO checkpoint are converted ({@code --weights}): the 16-bit module
 * the engine saves, or the fp32 masters the optimizer keeps (as DeepSpeed's {@code zero_to_fp32.py}
 * assembles them). Other sources hold one set of weights and ignore it.
 */
public enum Weights {
  /** The module's weights as saved (ZeRO-1/2 copy the masters into them after each step; ZeRO-3 leaves placeholders). */
  MODULE("module"),
  /** The fp32 master of every trained parameter, assembled from the optimizer partitions; frozen ones from the module. */
  FP32_MASTER("fp32-master");

  private final String cliName;

  Weights(String cliName) {
    this.cliName = cliName;
  }

  public String cliName() {
    return cliName;
  }

  public static Weights fromCliName(String name) {
    for (Weights w : values()) {
      if (w.cliName.equals(name)) {
        return w;
      }
    }
    throw new IllegalArgumentException("--weights must be module or fp32-master, got '" + name + "'");
  }
}
