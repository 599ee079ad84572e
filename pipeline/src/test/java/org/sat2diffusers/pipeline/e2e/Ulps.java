package org.sat2diffusers.pipeline.e2e;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.sat2diffusers.io.dtype.Dtype;

/** How far apart two little-endian float arrays are, in units in the last place of their dtype. */
final class Ulps {
  private Ulps() {}

  /** The largest distance between corresponding elements; the arrays must have the same length. */
  static long maxDistance(byte[] a, byte[] b, Dtype dtype) {
    if (a.length != b.length) {
      throw new IllegalArgumentException(a.length + " bytes against " + b.length);
    }
    ByteBuffer x = ByteBuffer.wrap(a).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer y = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    long max = 0;
    for (int i = 0; i < a.length; i += dtype.size()) {
      long distance = switch (dtype) {
        case F16, BF16 -> Math.abs(ordered(x.getShort(i), 16) - ordered(y.getShort(i), 16));
        case F32 -> Math.abs(ordered(x.getInt(i), 32) - ordered(y.getInt(i), 32));
        default -> throw new IllegalArgumentException("no ulp distance for " + dtype);
      };
      max = Math.max(max, distance);
    }
    return max;
  }

  /** Sign-magnitude bits to an integer that grows with the float's value (+0 and -0 both 0). */
  private static long ordered(long signedBits, int width) {
    return signedBits >= 0 ? signedBits : -(signedBits + (1L << (width - 1)));
  }
}
