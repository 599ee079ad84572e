package org.sat2diffusers.pipeline.e2e;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Main class of the child JVM of {@link BoundedHeapTest}: runs {@code inspect} on every corpus file
 * and {@code convert} on all its checkpoints, prints each exit code, the peak heap used, and last
 * {@link #DONE}. Exits 1 when any command accepted its input.
 */
public final class BadCorpusRun {
  static final String DONE = "corpus rejected";

  private BadCorpusRun() {}

  public static void main(String[] args) {
    Path out = Path.of(args[0]);
    boolean allRefused = true;
    for (Path file : BadCorpus.all()) {
      int exit = CliRun.run("inspect", file).exitCode();
      System.out.println("inspect " + file.getFileName() + " -> " + exit);
      allRefused &= exit != 0;
    }
    List<Object> convert = new ArrayList<>(List.of("convert", "--output", out));
    for (Path file : BadCorpus.checkpoints()) {
      convert.add("--source");
      convert.add(file);
    }
    int exit = CliRun.run(convert.toArray()).exitCode();
    System.out.println("convert (" + BadCorpus.checkpoints().size() + " checkpoints) -> " + exit);
    allRefused &= exit == 3;
    System.out.println("peak heap used: " + (peakHeapBytes() >> 20) + " MiB");
    System.out.println(DONE);
    System.exit(allRefused ? 0 : 1);
  }

  /** The sum over heap pools of each pool's peak (an upper bound of the heap's peak). */
  private static long peakHeapBytes() {
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    return peak;
  }
}
