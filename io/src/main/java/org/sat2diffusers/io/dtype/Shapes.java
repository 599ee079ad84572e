package org.sat2diffusers.io.dtype;

import java.util.List;

/** Element and byte counts of tensor shapes; ArithmeticException when a count overflows a long. */
public final class Shapes {
  private Shapes() {}

  /** Number of elements: the product of the sizes (1 for a scalar's {@code []}). */
  public static long numel(List<Long> shape) {
    long n = 1;
    for (long size : shape) {
      n = Math.multiplyExact(n, size);
    }
    return n;
  }

  /** Bytes of {@code shape}'s elements stored as {@code dtype}. */
  public static long byteLength(Dtype dtype, List<Long> shape) {
    return Math.multiplyExact(numel(shape), (long) dtype.size());
  }
}
