package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;

class UlpsTest {
  private static byte[] floats(float... values) {
    ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.array();
  }

  private static byte[] halves(int... bits) {
    ByteBuffer b = ByteBuffer.allocate(2 * bits.length).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : bits) {
      b.putShort((short) v);
    }
    return b.array();
  }

  @Test
  void neighboursAreOneUlpApartAndTheLargestDistanceCounts() {
    assertEquals(1, Ulps.maxDistance(floats(1f, 2f), floats(Math.nextUp(1f), 2f), Dtype.F32));
    assertEquals(3, Ulps.maxDistance(floats(-1f, 2f), floats(Math.nextDown(-1f), Math.nextUp(Math.nextUp(Math.nextUp(2f)))), Dtype.F32));
  }

  @Test
  void distancesRunThroughZeroAndIgnoreItsSign() {
    assertEquals(0, Ulps.maxDistance(floats(0f), floats(-0f), Dtype.F32));
    assertEquals(2, Ulps.maxDistance(floats(Float.MIN_VALUE), floats(-Float.MIN_VALUE), Dtype.F32));
    assertEquals(2, Ulps.maxDistance(halves(0x0001), halves(0x8001), Dtype.BF16)); // smallest subnormals
  }

  @Test
  void sixteenBitFloatsCountTheirOwnLastPlace() {
    assertEquals(1, Ulps.maxDistance(halves(0x3F80), halves(0x3F81), Dtype.BF16)); // 1.0 and its bf16 neighbour
    assertEquals(1, Ulps.maxDistance(halves(0xBC00), halves(0xBC01), Dtype.F16)); // -1.0 and its f16 neighbour
  }
}
