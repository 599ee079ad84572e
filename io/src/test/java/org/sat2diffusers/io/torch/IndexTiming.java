package org.sat2diffusers.io.torch;

import java.io.IOException;
import org.sat2diffusers.io.storage.CountingRandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;

/**
 * Benchmark, not a test: indexes one checkpoint through a counting input and prints the bytes read,
 * the read calls and the wall time. Usage: {@code IndexTiming <path or URI> [repetitions]}.
 */
public final class IndexTiming {
  private IndexTiming() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: IndexTiming <checkpoint> [repetitions]");
      System.exit(2);
    }
    int repetitions = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    for (int i = 0; i < repetitions; i++) {
      long start = System.nanoTime();
      try (CountingRandomAccessInput in = new CountingRandomAccessInput(RandomAccessInputs.open(args[0]))) {
        CheckpointIndex index = new TorchCheckpointReader().index(in);
        double millis = (System.nanoTime() - start) / 1e6;
        long tensorBytes = index.tensors().stream().mapToLong(TensorRecord::byteLength).sum();
        System.out.printf(
            "%s: %d tensors (%d tensor bytes) of a %d-byte file; read %d bytes in %d calls; %.1f ms%n",
            args[0], index.tensors().size(), tensorBytes, in.size(), in.bytesRead(), in.readCalls(), millis);
      }
    }
  }
}
