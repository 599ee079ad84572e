package org.sat2diffusers.transforms.lora;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.sat2diffusers.io.dtype.Dtype;

/** Distance in units in the last place between two little-endian F16/BF16/F32 arrays (as checks/conformance.py measures). */
public final class Ulp {
  private Ulp() {}

  public static long maxDistance(Dtype dtype, byte[] a, byte[] b) {
    if (a.length != b.length) {
      throw new AssertionError("lengths differ: " + a.length + " vs " + b.length);
    }
    ByteBuffer x = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer y = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    long max = 0;
    while (x.hasRemaining()) {
      long p = dtype == Dtype.F32 ? ordered(x.getInt(), 32) : ordered(x.getShort(), 16);
      long q = dtype == Dtype.F32 ? ordered(y.getInt(), 32) : ordered(y.getShort(), 16);
      max = Math.max(max, Math.abs(p - q));
    }
    return max;
  }

  /** Sign-magnitude bit pattern to a monotonic integer. */
  private static long ordered(long bits, int width) {
    long top = 1L << (width - 1);
    return bits >= 0 ? bits : -(bits + top);
  }
}
