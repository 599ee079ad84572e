package org.sat2diffusers.transforms.lora;

/**
 * The arithmetic of a LoRA merge on a block of rows, all in fp32: {@code W += (B @ A) * scale}.
 * The product is accumulated in fp32 by BLAS {@code sgemm} (alpha 1, beta 0), then scaled, then
 * added (three separately rounded fp32 steps, as torch does them); the caller rounds the result
 * once to the output dtype. Only the summation order inside the product is BLAS's own.
 *
 * <p>BLAS is dev.ludovic.netlib's: native OpenBLAS ({@code libopenblas.so.0}) through JNI when it
 * loads, else its Java implementation ({@link BlasChoice}). The reference {@code libblas.so.3} is
 * skipped on purpose: it is slower than the Java path.
 */
public final class LoraMergeKernel {
  private LoraMergeKernel() {}

  /**
   * Adds the update to {@code rows} rows of {@code w} (row-major, {@code cols} wide).
   *
   * @param w the weight rows, widened to fp32; updated in place
   * @param rows rows in {@code w}
   * @param cols columns (in features)
   * @param a one part's A, [rank, cols] row-major
   * @param b one part's B, [outPerPart, rank] row-major
   * @param firstBRow the row of B matching the first row of {@code w}
   * @param rank r
   * @param scale alpha / r
   * @param product scratch of at least {@code cols} floats; {@code rows * cols} lets BLAS multiply
   *     the whole block at once (faster), a smaller one is used a few rows at a time
   */
  public static void addDelta(
      float[] w, int rows, int cols, float[] a, float[] b, int firstBRow, int rank, float scale, float[] product) {
    int step = Math.max(1, Math.min(rows, product.length / Math.max(1, cols)));
    for (int first = 0; first < rows; first += step) {
      int n = Math.min(step, rows - first);
      // Row-major P[n, cols] = B[n, r] @ A[r, cols] is column-major P^T = A^T @ B^T: same arrays, no copies.
      Blas.CHOICE.blas().sgemm("N", "N", cols, n, rank, 1f, a, 0, cols, b, (firstBRow + first) * rank, rank,
          0f, product, 0, cols);
      int base = first * cols;
      for (int j = 0, count = n * cols; j < count; j++) {
        w[base + j] += product[j] * scale;
      }
    }
  }

  /**
   * Which BLAS runs the products and why: e.g. {@code JNIBLAS (native /usr/lib/.../libopenblas.so.0)},
   * or {@code Java11BLAS (Java: libopenblas.so.0 was not found; ...)}. Chooses it on the first call.
   */
  public static String implementation() {
    return Blas.CHOICE.description();
  }

  /** Chosen on first use (class initialization runs it once per JVM). */
  private static final class Blas {
    static final BlasChoice CHOICE = BlasChoice.fromSystemProperties();
  }
}
