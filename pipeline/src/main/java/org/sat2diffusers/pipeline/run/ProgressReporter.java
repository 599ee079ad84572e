package org.sat2diffusers.pipeline.run;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.joda.time.Duration;
import org.sat2diffusers.pipeline.steps.RunCounters;

/**
 * Follows a running pipeline and prints, every few seconds, how far it is: checkpoints committed,
 * bytes written of the bytes planned, and an estimate of the time left. Reads the run's Beam
 * counters, so it works the same on every runner that reports metrics while running.
 */
final class ProgressReporter {
  private ProgressReporter() {}

  /** Waits for the run to end, reporting every {@code everyMillis}; returns its final state. */
  static PipelineResult.State follow(PipelineResult result, long everyMillis, int checkpoints, Consumer<String> report) {
    long start = System.nanoTime();
    while (true) {
      PipelineResult.State state = result.waitUntilFinish(Duration.millis(everyMillis));
      if (state != null && state.isTerminal()) {
        return state;
      }
      String line = line(counters(result), checkpoints, (System.nanoTime() - start) / 1e9);
      if (line != null) {
        report.accept(line);
      }
    }
  }

  private static Map<String, Long> counters(PipelineResult result) {
    Map<String, Long> values = new HashMap<>();
    try {
      MetricsFilter filter =
          MetricsFilter.builder().addNameFilter(MetricNameFilter.inNamespace(RunCounters.NAMESPACE)).build();
      for (MetricResult<Long> c : result.metrics().queryMetrics(filter).getCounters()) {
        values.merge(c.getName().getName(), c.getAttempted(), Long::sum);
      }
    } catch (RuntimeException e) {
      // a runner that cannot report metrics while running: no progress line, the run goes on
    }
    return values;
  }

  /** The progress line, or null while nothing is planned yet. */
  static String line(Map<String, Long> counters, int checkpoints, double elapsedSeconds) {
    long planned = counters.getOrDefault(RunCounters.BYTES_PLANNED, 0L);
    if (planned == 0) {
      return null;
    }
    long written = counters.getOrDefault(RunCounters.BYTES_WRITTEN, 0L);
    long done = counters.getOrDefault(RunCounters.CHECKPOINTS_CONVERTED, 0L);
    String eta = written == 0 ? "unknown"
        : String.format("%.0f s", elapsedSeconds * (planned - Math.min(written, planned)) / written);
    return String.format("progress: %d of %d checkpoint(s) committed, %s of %s written (%.0f%%), %.0f s elapsed, ETA %s",
        done, checkpoints, bytes(written), bytes(planned), 100.0 * written / planned, elapsedSeconds, eta);
  }

  private static String bytes(long n) {
    if (n >= 1_000_000_000L) {
      return String.format("%.2f GB", n / 1e9);
    }
    return n >= 1_000_000L ? String.format("%.1f MB", n / 1e6) : String.format("%,d bytes", n);
  }
}
