package org.sat2diffusers.transforms.lora;

import java.util.Arrays;

/**
 * The arithmetic of a LoRA merge on a block of rows, all in fp32: {@code W += (B @ A) * scale}.
 * The product is accumulated in fp32 over k = 0..r-1, then scaled, then added (three separately
 * rounded fp32 steps, as torch does them); the caller rounds the result once to the output dtype.
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
   * @param acc scratch of at least {@code cols} floats
   */
  public static void addDelta(
      float[] w, int rows, int cols, float[] a, float[] b, int firstBRow, int rank, float scale, float[] acc) {
    for (int i = 0; i < rows; i++) {
      Arrays.fill(acc, 0, cols, 0f);
      int bRow = (firstBRow + i) * rank;
      for (int k = 0; k < rank; k++) {
        float bik = b[bRow + k];
        int aRow = k * cols;
        for (int j = 0; j < cols; j++) {
          acc[j] += bik * a[aRow + j];
        }
      }
      int wRow = i * cols;
      for (int j = 0; j < cols; j++) {
        w[wRow + j] += acc[j] * scale;
      }
    }
  }
}
