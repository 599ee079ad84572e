package org.sat2diffusers.transforms.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
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
    LoraMergeKernel.Scratch scratch = new LoraMergeKernel.Scratch();
    for (int p = 0; p < c.parts(); p++) {
      System.arraycopy(w, p * part.length, part, 0, part.length);
      LoraMergeKernel.addDelta(part, c.outPerPart(), c.in(), decode(c.dtype(), c.a().get(p), c.rank() * c.in()),
          decode(c.dtype(), c.b().get(p), c.outPerPart() * c.rank()), 0, c.rank(), c.scale(), scratch);
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
    LoraMergeKernel.addDelta(w, 1, 2, new float[] {3f, -1f}, new float[] {2f}, 0, 1, 0.5f, new LoraMergeKernel.Scratch());
    assertArrayEquals(new float[] {4f, 1f}, w);
  }

  @Test
  void startsAtTheRequestedRowOfB() {
    // B rows [1], [10]: with firstBRow 1 the single W row takes B's second row
    float[] w = {0f, 0f};
    LoraMergeKernel.addDelta(w, 1, 2, new float[] {1f, 2f}, new float[] {1f, 10f}, 1, 1, 1f, new LoraMergeKernel.Scratch());
    assertArrayEquals(new float[] {10f, 20f}, w);
  }

  @Test
  void javaKernelMatchesADoubleReference() {
    assertJavaKernelMatchesReference(new Random(1), new LoraMergeKernel.Scratch(), 64, 3072, 128);
  }

  @Test
  void javaKernelHandlesShapesThatAreNotMultiplesOfItsBlocks() {
    Random random = new Random(2);
    // one scratch throughout: grown in width, then in rows, and reused with stale contents
    LoraMergeKernel.Scratch scratch = new LoraMergeKernel.Scratch();
    for (int rows : new int[] {3, 341, 1}) {
      for (int cols : new int[] {5, 1920}) {
        for (int rank : new int[] {128, 7, 1}) {
          assertJavaKernelMatchesReference(random, scratch, rows, cols, rank);
        }
      }
    }
  }

  /**
   * Random W, A, B (B with two extra rows before the block's) and scale through the Java kernel,
   * against {@code W + (B @ A) * scale} in double: each element within 1e-5 of the sum of the
   * product's |terms| (times |scale|), plus one ulp of the result for the final fp32 add.
   */
  private static void assertJavaKernelMatchesReference(Random random, LoraMergeKernel.Scratch scratch, int rows,
      int cols, int rank) {
    int firstBRow = 2;
    float[] w = uniform(random, rows * cols);
    float[] a = uniform(random, rank * cols);
    float[] b = uniform(random, (firstBRow + rows) * rank);
    float scale = 0.37f;
    float[] merged = w.clone();
    LoraMergeKernel.javaKernel(merged, rows, cols, a, b, firstBRow, rank, scale, scratch);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        double sum = 0;
        double magnitude = 0;
        for (int k = 0; k < rank; k++) {
          double term = (double) b[(firstBRow + i) * rank + k] * a[k * cols + j];
          sum += term;
          magnitude += Math.abs(term);
        }
        double expected = w[i * cols + j] + sum * scale;
        float got = merged[i * cols + j];
        double bound = 1e-5 * magnitude * scale + Math.ulp(got);
        if (!(Math.abs(got - expected) <= bound)) {
          fail(rows + "x" + cols + " rank " + rank + ": [" + i + ", " + j + "] is " + got + ", expected " + expected
              + " within " + bound);
        }
      }
    }
  }

  private static float[] uniform(Random random, int count) {
    float[] values = new float[count];
    for (int i = 0; i < count; i++) {
      values[i] = random.nextFloat() * 2 - 1;
    }
    return values;
  }

  private static float[] decode(Dtype dtype, byte[] bytes, int count) {
    float[] out = new float[count];
    DtypeConversions.decode(dtype, ByteBuffer.wrap(bytes), out, count);
    return out;
  }
}
