package org.sat2diffusers.transforms.lora;

import dev.ludovic.netlib.blas.BLAS;
import java.util.Arrays;

/**
 * The arithmetic of a LoRA merge on a block of rows, all in fp32: {@code W += (B @ A) * scale}.
 * The product is accumulated in fp32, then scaled, then added (three separately rounded fp32
 * steps, as torch does them); the caller rounds the result once to the output dtype. Only the
 * summation order inside the product depends on the path.
 *
 * <p>With native OpenBLAS ({@code libopenblas.so.0}, through dev.ludovic.netlib's JNI glue) the
 * product is its {@code sgemm}; otherwise ({@link BlasChoice}) it is this class's own Java kernel,
 * which sums over k in increasing order, one rounded multiply and one rounded add per term. The
 * reference {@code libblas.so.3} is skipped on purpose: it is slower than the Java kernel.
 */
public final class LoraMergeKernel {
  /**
   * Columns per pass of the Java kernel: the product rows of a block (4 KiB each) and A's slice
   * stay in a core's L2 cache while every row of the block goes through them.
   */
  private static final int COLUMNS = 1024;

  private LoraMergeKernel() {}

  /**
   * Reusable buffers for {@link #addDelta}, grown on demand; one per thread (not thread-safe).
   */
  public static final class Scratch {
    private float[] product = new float[0];
    private float[][] aSlice = new float[0][];
    private float[][] productRows = new float[0][];

    private float[] product(int size) {
      if (product.length < size) {
        product = new float[size];
      }
      return product;
    }

    /**
     * {@code count} arrays of at least {@code width} floats (width at most the block's columns: a
     * block of many narrow rows then needs no more floats than its own).
     */
    private static float[][] rows(float[][] have, int count, int width) {
      int haveWidth = have.length == 0 ? 0 : have[0].length;
      return have.length >= count && haveWidth >= width
          ? have
          : new float[Math.max(count, have.length)][Math.max(width, haveWidth)];
    }
  }

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
   * @param scratch this thread's buffers
   */
  public static void addDelta(
      float[] w, int rows, int cols, float[] a, float[] b, int firstBRow, int rank, float scale, Scratch scratch) {
    BLAS blas = Blas.CHOICE.blas();
    if (blas == null) {
      javaKernel(w, rows, cols, a, b, firstBRow, rank, scale, scratch);
      return;
    }
    float[] product = scratch.product(rows * cols);
    // Row-major P[rows, cols] = B[rows, r] @ A[r, cols] is column-major P^T = A^T @ B^T: same arrays, no copies.
    blas.sgemm("N", "N", cols, rows, rank, 1f, a, 0, cols, b, firstBRow * rank, rank, 0f, product, 0, cols);
    for (int j = 0, count = rows * cols; j < count; j++) {
      w[j] += product[j] * scale;
    }
  }

  /**
   * The Java kernel, written for C2's auto-vectorizer: each inner loop runs over contiguous columns
   * with every array indexed by the loop variable alone (an offset like {@code a[k * cols + j]} stops
   * C2 from vectorizing it), so A's slice is copied into one array per row of A, and each product
   * row is its own array. Eight steps of k per pass over the block's rows: A's eight slice rows
   * (32 KiB) stay in L1 while each product row is loaded and stored once per eight terms.
   */
  static void javaKernel(
      float[] w, int rows, int cols, float[] a, float[] b, int firstBRow, int rank, float scale, Scratch scratch) {
    int width = Math.min(COLUMNS, cols);
    float[][] as = scratch.aSlice = Scratch.rows(scratch.aSlice, rank, width);
    float[][] ps = scratch.productRows = Scratch.rows(scratch.productRows, rows, width);
    for (int first = 0; first < cols; first += width) {
      int n = Math.min(width, cols - first);
      for (int k = 0; k < rank; k++) {
        System.arraycopy(a, k * cols + first, as[k], 0, n);
      }
      for (int i = 0; i < rows; i++) {
        Arrays.fill(ps[i], 0, n, 0f);
      }
      int k = 0;
      for (; k + 8 <= rank; k += 8) {
        float[] a0 = as[k], a1 = as[k + 1], a2 = as[k + 2], a3 = as[k + 3];
        float[] a4 = as[k + 4], a5 = as[k + 5], a6 = as[k + 6], a7 = as[k + 7];
        for (int i = 0; i < rows; i++) {
          float[] p = ps[i];
          int bk = (firstBRow + i) * rank + k;
          float b0 = b[bk], b1 = b[bk + 1], b2 = b[bk + 2], b3 = b[bk + 3];
          float b4 = b[bk + 4], b5 = b[bk + 5], b6 = b[bk + 6], b7 = b[bk + 7];
          for (int j = 0; j < n; j++) {
            // left to right: terms added in increasing k (no Math.fma: without FMA hardware it is BigDecimal-slow)
            float s = p[j] + b0 * a0[j] + b1 * a1[j] + b2 * a2[j] + b3 * a3[j];
            p[j] = s + b4 * a4[j] + b5 * a5[j] + b6 * a6[j] + b7 * a7[j];
          }
        }
      }
      for (; k < rank; k++) { // the ranks that are not multiples of 8, one term a pass
        float[] ak = as[k];
        for (int i = 0; i < rows; i++) {
          float[] p = ps[i];
          float bk = b[(firstBRow + i) * rank + k];
          for (int j = 0; j < n; j++) {
            p[j] += bk * ak[j];
          }
        }
      }
      for (int i = 0; i < rows; i++) {
        float[] p = ps[i];
        for (int j = 0, wj = i * cols + first; j < n; j++, wj++) {
          w[wj] += p[j] * scale;
        }
      }
    }
  }

  /**
   * What runs the products and why: e.g. {@code JNIBLAS (native /usr/lib/.../libopenblas.so.0)}, or
   * {@code Java (sat2diffusers kernel; libopenblas.so.0 was not found; ...)}. Chooses on the first call.
   */
  public static String implementation() {
    return Blas.CHOICE.description();
  }

  /** Chosen on first use (class initialization runs it once per JVM). */
  private static final class Blas {
    static final BlasChoice CHOICE = BlasChoice.fromSystemProperties();
  }
}
