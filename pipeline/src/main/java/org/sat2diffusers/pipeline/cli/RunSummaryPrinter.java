package org.sat2diffusers.pipeline.cli;

import java.io.PrintWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;

/**
 * The end of a run: one line per checkpoint (status, tensors, bytes) on standard output, failures
 * with their reason on standard error; with --log-format json, everything as log lines.
 */
final class RunSummaryPrinter {
  private static final Logger LOG = Logger.getLogger("sat2diffusers");

  private RunSummaryPrinter() {}

  /** Human format: a table on {@code out}. JSON format: one log line per checkpoint instead. */
  static void print(
      List<CheckpointJob> jobs, List<CheckpointOutcome> outcomes, double seconds, LogSetup.Format format, PrintWriter out) {
    Map<String, CheckpointOutcome> byId = new HashMap<>();
    outcomes.forEach(o -> byId.put(o.checkpointId(), o));
    int converted = 0;
    int skipped = 0;
    for (CheckpointJob job : jobs) {
      CheckpointOutcome o = byId.get(job.id());
      if (o != null && o.status() == CheckpointOutcome.Status.CONVERTED) {
        converted++;
      } else if (o != null && o.status() == CheckpointOutcome.Status.SKIPPED) {
        skipped++;
      }
      String line = line(job, o);
      if (o == null || !o.succeeded()) {
        LOG.severe(line); // errors go to standard error in both formats
      } else if (format == LogSetup.Format.json) {
        LOG.info(line);
      } else {
        out.println(line);
      }
    }
    String total = String.format("%d of %d checkpoint(s) converted, %d up to date, in %.1f s", converted, jobs.size(),
        skipped, seconds);
    if (format == LogSetup.Format.json) {
      LOG.info(total);
    } else {
      out.println(total);
      out.flush();
    }
  }

  private static String line(CheckpointJob job, CheckpointOutcome o) {
    if (o != null && o.status() == CheckpointOutcome.Status.SKIPPED) {
      return String.format("up to date     %s -> %s", job.source(), job.outputDir());
    }
    if (o != null && o.succeeded()) {
      return String.format("converted      %s -> %s: %d tensors, %,d bytes", job.source(), job.outputDir(),
          o.tensors(), o.bytesWritten());
    }
    String status = o == null ? "failed" : o.status().name().toLowerCase().replace('_', ' ');
    String why = o == null ? "no outcome was reported" : o.message();
    return String.format("%-14s %s", status, why.startsWith(job.source()) ? why : job.source() + ": " + why);
  }
}
