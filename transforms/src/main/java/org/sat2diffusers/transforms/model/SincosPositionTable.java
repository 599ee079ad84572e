package org.sat2diffusers.transforms.model;

/**
 * The frozen table of SAT's {@code Basic3DPositionEmbeddingMixin} (CogVideoX-2B), computed as SAT
 * computes it, since Diffusers does not keep it: {@code torch.zeros(1, text_length + T*H*W, hidden)},
 * whose last {@code T*H*W} rows {@code reinit} fills from {@code get_3d_sincos_pos_embed} (numpy:
 * float32 grids, float64 frequencies and sin/cos), cast to float32 by {@code .float()}; the caller then
 * casts to the parameter's dtype. Per row {@code t*H*W + h*W + w}: a quarter of the width encodes t,
 * then half of the rest encodes w and the other half h (SAT's meshgrid puts w first), each as
 * {@code [sin(pos * omega_k), cos(pos * omega_k)]} with {@code omega_k = 1 / 10000^(k / (d/2))}.
 *
 * <p>StrictMath gives the same bits on every JVM; it and numpy's libm may differ in the last bit of a
 * double, which rounding to float32 almost always hides: the table is SAT's within 1 ulp of float32.
 */
public final class SincosPositionTable {
  /**
   * @param hidden the table's width (SAT's hidden size, a multiple of 16 for the 3-D split to be whole)
   * @param height latent height / patch size
   * @param width latent width / patch size
   * @param frames compressed frames: (num_frames - 1) / time_compressed_rate + 1
   * @param textLength text tokens in front (zero rows)
   * @param heightInterpolation SAT's height_interpolation (Diffusers' spatial_interpolation_scale)
   * @param widthInterpolation SAT's width_interpolation (Diffusers' spatial_interpolation_scale)
   * @param timeInterpolation SAT's time_interpolation (Diffusers' temporal_interpolation_scale)
   */
  public record Geometry(int hidden, int height, int width, int frames, int textLength, double heightInterpolation,
      double widthInterpolation, double timeInterpolation) {
    public Geometry {
      if (hidden <= 0 || hidden % 16 != 0 || height <= 0 || width <= 0 || frames <= 0 || textLength < 0) {
        throw new IllegalArgumentException("no SAT sincos table for hidden " + hidden + " (a multiple of 16), "
            + frames + "x" + height + "x" + width + " patches and " + textLength + " text tokens");
      }
    }

    /** Rows of the table: text tokens, then every patch. */
    public long rows() {
      return textLength + (long) frames * height * width;
    }
  }

  private SincosPositionTable() {}

  /** The table as float32 values, row-major {@code [rows][hidden]} (SAT's shape is {@code [1, rows, hidden]}). */
  public static float[] compute(Geometry g) {
    int d = g.hidden();
    int temporal = d / 4;
    int spatialHalf = d / 4 * 3 / 2;
    int patches = g.height() * g.width();
    float[] table = new float[Math.toIntExact(Math.multiplyExact(g.rows(), (long) d))];
    double[] tEmb = new double[temporal];
    double[] wEmb = new double[spatialHalf];
    double[] hEmb = new double[spatialHalf];
    for (int t = 0; t < g.frames(); t++) {
      oneDimension(grid(t, g.timeInterpolation()), tEmb);
      for (int h = 0; h < g.height(); h++) {
        oneDimension(grid(h, g.heightInterpolation()), hEmb);
        for (int w = 0; w < g.width(); w++) {
          oneDimension(grid(w, g.widthInterpolation()), wEmb);
          int row = g.textLength() + t * patches + h * g.width() + w;
          int at = row * d;
          for (double v : tEmb) {
            table[at++] = (float) v;
          }
          for (double v : wEmb) {
            table[at++] = (float) v;
          }
          for (double v : hEmb) {
            table[at++] = (float) v;
          }
        }
      }
    }
    return table;
  }

  /** numpy's {@code np.arange(n, dtype=np.float32) / interpolation}: a float32 division. */
  private static double grid(int index, double interpolation) {
    return (float) index / (float) interpolation;
  }

  /** SAT's get_1d_sincos_pos_embed_from_grid for one position: sines then cosines, in float64. */
  private static void oneDimension(double pos, double[] out) {
    int half = out.length / 2;
    for (int k = 0; k < half; k++) {
      double omega = 1.0 / StrictMath.pow(10000, k / (out.length / 2.0));
      double angle = pos * omega;
      out[k] = StrictMath.sin(angle);
      out[half + k] = StrictMath.cos(angle);
    }
  }
}
