package org.sat2diffusers.transforms.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.DtypeConversions;

class LoraMergeKernelTest {
  static List<LoraMergeCase> cases() {
    return LoraMergeCase.all();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void matchesTorchWithinOneUlp(LoraMergeCase c) {
    int rows = c.parts() * c.outPerPart();
    float[] w = decode(c.dtype(), c.w(), rows * c.in());
    float[] part = new float[c.outPerPart() * c.in()];
    float[] acc = new float[c.in()];
    for (int p = 0; p < c.parts(); p++) {
      System.arraycopy(w, p * part.length, part, 0, part.length);
      LoraMergeKernel.addDelta(part, c.outPerPart(), c.in(), decode(c.dtype(), c.a().get(p), c.rank() * c.in()),
          decode(c.dtype(), c.b().get(p), c.outPerPart() * c.rank()), 0, c.rank(), c.scale(), acc);
      System.arraycopy(part, 0, w, p * part.length, part.length);
    }
    byte[] merged = new byte[c.expected().length];
    DtypeConversions.encode(c.dtype(), w, w.length, ByteBuffer.wrap(merged));
    long ulps = Ulp.maxDistance(c.dtype(), c.expected(), merged);
    assertTrue(ulps <= 1, c.name() + ": off by " + ulps + " ulp");
  }

  @Test
  void scalesTheProductThenAddsInFp32() {
    // W = [[1, 2]], B = [[2]], A = [[3, -1]], scale 0.5: W + (B @ A) * 0.5 = [[4, 1]]
    float[] w = {1f, 2f};
    LoraMergeKernel.addDelta(w, 1, 2, new float[] {3f, -1f}, new float[] {2f}, 0, 1, 0.5f, new float[2]);
    assertArrayEquals(new float[] {4f, 1f}, w);
  }

  @Test
  void startsAtTheRequestedRowOfB() {
    // B rows [1], [10]: with firstBRow 1 the single W row takes B's second row
    float[] w = {0f, 0f};
    LoraMergeKernel.addDelta(w, 1, 2, new float[] {1f, 2f}, new float[] {1f, 10f}, 1, 1, 1f, new float[2]);
    assertArrayEquals(new float[] {10f, 20f}, w);
  }

  private static float[] decode(Dtype dtype, byte[] bytes, int count) {
    float[] out = new float[count];
    DtypeConversions.decode(dtype, ByteBuffer.wrap(bytes), out, count);
    return out;
  }
}
