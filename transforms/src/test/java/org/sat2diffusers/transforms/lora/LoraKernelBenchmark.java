package org.sat2diffusers.transforms.lora;

import java.util.Random;

/**
 * The LoRA merge kernel alone on a CogVideoX-5B-sized layer set (42 layers; query_key_value in 3
 * parts and dense in 1, each a (3072 x 128) x (128 x 3072) fp32 product, r = 128), in GFLOP/s
 * (2 m n k per product; the scale-and-add is timed but not counted). Run by benchmarks/run.sh, not by
 * the build. Rows go through in blocks of 4 MiB, as the shard writer (pipeline
 * {@code write.TensorAssembler}) sends them.
 *
 * <p>Usage: {@code LoraKernelBenchmark [layers]}
 */
public final class LoraKernelBenchmark {
  private static final int HIDDEN = 3072;
  private static final int RANK = 128;
  private static final int PARTS_PER_LAYER = 4;
  private static final int BLOCK_BYTES = 4 << 20;

  private LoraKernelBenchmark() {}

  public static void main(String[] args) {
    int layers = args.length > 0 ? Integer.parseInt(args[0]) : 42;
    int blockRows = BLOCK_BYTES / (HIDDEN * 4);
    Random random = new Random(0);
    float[] a = new float[RANK * HIDDEN];
    float[] b = new float[HIDDEN * RANK];
    float[] w = new float[blockRows * HIDDEN];
    float[] product = new float[blockRows * HIDDEN];
    fill(random, w);
    mergePart(a, b, w, product, blockRows); // warm-up: JIT, native library load
    long nanos = 0;
    for (int part = 0; part < layers * PARTS_PER_LAYER; part++) {
      fill(random, a);
      fill(random, b);
      long start = System.nanoTime();
      mergePart(a, b, w, product, blockRows);
      nanos += System.nanoTime() - start;
    }
    long products = (long) layers * PARTS_PER_LAYER;
    double flops = 2.0 * HIDDEN * RANK * HIDDEN * products;
    System.out.printf("java kernel (%s, %d-row blocks): %d products of (%dx%d)x(%dx%d) fp32 in %.3f s = %.1f GFLOP/s%n",
        LoraMergeKernel.implementation(), blockRows, products, HIDDEN, RANK, RANK, HIDDEN, nanos / 1e9,
        flops / nanos);
  }

  /** One part: all HIDDEN rows of W against B's rows, a block at a time (W's block reused: only the time counts). */
  private static void mergePart(float[] a, float[] b, float[] w, float[] product, int blockRows) {
    for (int row = 0; row < HIDDEN; row += blockRows) {
      int rows = Math.min(blockRows, HIDDEN - row);
      LoraMergeKernel.addDelta(w, rows, HIDDEN, a, b, row, RANK, 1f / RANK, product);
    }
  }

  private static void fill(Random random, float[] values) {
    for (int i = 0; i < values.length; i++) {
      values[i] = (random.nextFloat() - 0.5f) * 0.04f;
    }
  }
}
