package org.sat2diffusers.io.dtype;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class NonFiniteCounterTest {
  private static final float[] VALUES = {
    0f, -0f, 1.5f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE,
    Float.MIN_VALUE, Float.intBitsToFloat(0x7fc00001), -65504f
  };

  private static NonFiniteCounter.Counts count(Dtype dtype) throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate(VALUES.length * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : VALUES) {
      switch (dtype) {
        case F32 -> bytes.putFloat(v);
        case F64 -> bytes.putDouble(v);
        default -> bytes.putShort(dtype == Dtype.F16 ? DtypeConversions.f32ToF16(v) : DtypeConversions.f32ToBf16(v));
      }
    }
    return NonFiniteCounter.count(dtype, new ByteArrayInputStream(bytes.array()));
  }

  @Test
  void countsNanAndInfinityInEveryFloatingPointDtype() throws IOException {
    assertEquals(new NonFiniteCounter.Counts(2, 2), count(Dtype.F32));
    assertEquals(new NonFiniteCounter.Counts(2, 2), count(Dtype.F64));
    // in 16 bits Float.MAX_VALUE rounds to infinity (as torch rounds it): one more
    assertEquals(new NonFiniteCounter.Counts(2, 3), count(Dtype.BF16));
    assertEquals(new NonFiniteCounter.Counts(2, 3), count(Dtype.F16));
  }

  @Test
  void integersHaveNone() throws IOException {
    assertEquals(new NonFiniteCounter.Counts(0, 0),
        NonFiniteCounter.count(Dtype.I32, new ByteArrayInputStream(new byte[] {-1, -1, -128, 127})));
  }
}
