package org.sat2diffusers.transforms.lora;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The LoRA merge kernel alone on a CogVideoX-5B-sized layer set (42 layers; query_key_value in 3
 * parts and dense in 1, each a (3072 x 128) x (128 x 3072) fp32 product, r = 128), in GFLOP/s
 * (2 m n k per product; the scale-and-add is timed but not counted). Run by benchmarks/run.sh, not by
 * the build. Rows go through in blocks of 4 MiB, as the shard writer (pipeline
 * {@code write.TensorAssembler}) sends them.
 *
 * <p>The products are shared out over as many threads as the machine has cores, each with its own
 * parts and buffers, as the converter's shard-writer threads merge different tensors at the same time
 * (numpy's matmul, the yardstick, uses every core too). The time is the wall clock of all of them.
 *
 * <p>Usage: {@code LoraKernelBenchmark [layers [threads]]}
 */
public final class LoraKernelBenchmark {
  private static final int HIDDEN = 3072;
  private static final int RANK = 128;
  private static final int PARTS_PER_LAYER = 4;
  private static final int BLOCK_BYTES = 4 << 20;
  private static final int BLOCK_ROWS = BLOCK_BYTES / (HIDDEN * 4);

  private LoraKernelBenchmark() {}

  public static void main(String[] args) throws InterruptedException {
    int layers = args.length > 0 ? Integer.parseInt(args[0]) : 42;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
    int products = layers * PARTS_PER_LAYER;
    List<Writer> writers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      writers.add(new Writer(new Random(t), (products - t + threads - 1) / threads)); // parts t, t + threads, ...
    }
    writers.get(0).mergePart(); // warm-up: JIT, native library load
    List<Thread> running = new ArrayList<>();
    long start = System.nanoTime();
    for (Writer writer : writers) {
      Thread thread = new Thread(writer::run);
      thread.start();
      running.add(thread);
    }
    for (Thread thread : running) {
      thread.join();
    }
    long nanos = System.nanoTime() - start;
    double flops = 2.0 * HIDDEN * RANK * HIDDEN * products;
    System.out.printf("java kernel (%s, %d-row blocks, %d threads): %d products of (%dx%d)x(%dx%d) fp32 in %.3f s = %.1f GFLOP/s%n",
        LoraMergeKernel.implementation(), BLOCK_ROWS, threads, products, HIDDEN, RANK, RANK, HIDDEN, nanos / 1e9,
        flops / nanos);
  }

  /** One writer thread's share: its own A, B, W block and scratch. */
  private static final class Writer {
    private final float[] a = new float[RANK * HIDDEN];
    private final float[] b = new float[HIDDEN * RANK];
    private final float[] w = new float[BLOCK_ROWS * HIDDEN];
    private final LoraMergeKernel.Scratch scratch = new LoraMergeKernel.Scratch();
    private final int parts;

    Writer(Random random, int parts) {
      this.parts = parts;
      fill(random, a);
      fill(random, b);
      fill(random, w);
    }

    void run() {
      for (int part = 0; part < parts; part++) {
        mergePart();
      }
    }

    /** One part: all HIDDEN rows of W against B's rows, a block at a time (W's block reused: only the time counts). */
    void mergePart() {
      for (int row = 0; row < HIDDEN; row += BLOCK_ROWS) {
        int rows = Math.min(BLOCK_ROWS, HIDDEN - row);
        LoraMergeKernel.addDelta(w, rows, HIDDEN, a, b, row, RANK, 1f / RANK, scratch);
      }
    }
  }

  private static void fill(Random random, float[] values) {
    for (int i = 0; i < values.length; i++) {
      values[i] = (random.nextFloat() - 0.5f) * 0.04f;
    }
  }
}
