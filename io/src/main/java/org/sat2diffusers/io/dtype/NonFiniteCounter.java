package org.sat2diffusers.io.dtype;

import java.io.IOException;
import java.io.InputStream;

/** Counts NaN and infinite elements of a floating-point tensor's little-endian bytes, streamed. */
public final class NonFiniteCounter {
  /** NaN and infinity counts of one tensor. */
  public record Counts(long nan, long inf) {
    public boolean any() {
      return nan > 0 || inf > 0;
    }
  }

  private NonFiniteCounter() {}

  /** Counts the elements of {@code in} (read to its end); integer dtypes have none. */
  public static Counts count(Dtype dtype, InputStream in) throws IOException {
    if (!dtype.isFloatingPoint()) {
      return new Counts(0, 0);
    }
    int size = dtype.size();
    byte[] buffer = new byte[1 << 16];
    long nan = 0;
    long inf = 0;
    int carry = 0;
    for (int n; (n = in.readNBytes(buffer, carry, buffer.length - carry)) > 0 || carry > 0; ) {
      int end = carry + n;
      int whole = end - end % size;
      for (int i = 0; i < whole; i += size) {
        int kind = classify(dtype, buffer, i);
        nan += kind == 1 ? 1 : 0;
        inf += kind == 2 ? 1 : 0;
      }
      carry = end - whole;
      System.arraycopy(buffer, whole, buffer, 0, carry);
      if (n == 0) {
        break; // a trailing partial element: not a tensor's bytes, nothing to count
      }
    }
    return new Counts(nan, inf);
  }

  /** 0 finite, 1 NaN, 2 infinite: an all-ones exponent, then the mantissa decides. */
  private static int classify(Dtype dtype, byte[] b, int at) {
    switch (dtype) {
      case F16 -> {
        int h = (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
        return (h & 0x7c00) != 0x7c00 ? 0 : (h & 0x03ff) != 0 ? 1 : 2;
      }
      case BF16 -> {
        int h = (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
        return (h & 0x7f80) != 0x7f80 ? 0 : (h & 0x007f) != 0 ? 1 : 2;
      }
      case F32 -> {
        int f = (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (b[at + 3] & 0xff) << 24;
        return (f & 0x7f800000) != 0x7f800000 ? 0 : (f & 0x007fffff) != 0 ? 1 : 2;
      }
      case F64 -> {
        long d = 0;
        for (int i = 7; i >= 0; i--) {
          d = d << 8 | (b[at + i] & 0xff);
        }
        double v = Double.longBitsToDouble(d);
        return Double.isNaN(v) ? 1 : Double.isInfinite(v) ? 2 : 0;
      }
      default -> {
        return 0;
      }
    }
  }
}
