package org.sat2diffusers.pipeline.steps;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;

/**
 * One outcome per checkpoint (when several steps reported, the earliest stage explains the rest),
 * written as one run log file the driver reads back for its summary and exit code.
 */
public class SummarizeRun extends PTransform<PCollection<KV<String, CheckpointOutcome>>, PDone> {
  private final String runLogFile;

  public SummarizeRun(String runLogFile) {
    this.runLogFile = runLogFile;
  }

  @Override
  public PDone expand(PCollection<KV<String, CheckpointOutcome>> outcomes) {
    outcomes
        .apply("Gather outcomes per checkpoint", GroupByKey.create())
        .apply("Keep the explaining outcome", ParDo.of(new FirstCauseFn()))
        .setCoder(Outcomes.coder())
        .apply("Drop checkpoint ids", Values.create())
        .apply("One group for the run", WithKeys.of(""))
        .apply("Gather the run", GroupByKey.create())
        .apply("Write the run log", ParDo.of(new WriteRunLogFn(runLogFile)));
    return PDone.in(outcomes.getPipeline());
  }

  static class FirstCauseFn extends DoFn<KV<String, Iterable<CheckpointOutcome>>, KV<String, CheckpointOutcome>> {
    private final Counter failed = Metrics.counter(RunCounters.NAMESPACE, RunCounters.CHECKPOINTS_FAILED);
    private final Counter invalid = Metrics.counter(RunCounters.NAMESPACE, RunCounters.CHECKPOINTS_INVALID);

    @ProcessElement
    public void process(@Element KV<String, Iterable<CheckpointOutcome>> e, OutputReceiver<KV<String, CheckpointOutcome>> out) {
      List<CheckpointOutcome> all = new ArrayList<>();
      e.getValue().forEach(all::add);
      CheckpointOutcome first = all.stream()
          .min(Comparator.comparing((CheckpointOutcome o) -> o.succeeded()).thenComparing(CheckpointOutcome::stage))
          .orElseThrow();
      if (first.status() == CheckpointOutcome.Status.FAILED) {
        failed.inc();
      } else if (first.status() == CheckpointOutcome.Status.INVALID_INPUT) {
        invalid.inc();
      }
      out.output(KV.of(e.getKey(), first));
    }
  }

  static class WriteRunLogFn extends DoFn<KV<String, Iterable<CheckpointOutcome>>, Void> {
    private final String runLogFile;

    WriteRunLogFn(String runLogFile) {
      this.runLogFile = runLogFile;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<CheckpointOutcome>> run) throws Exception {
      List<CheckpointOutcome> outcomes = new ArrayList<>();
      run.getValue().forEach(outcomes::add);
      StorageFiles.writeString(runLogFile, RunLog.toJson(outcomes));
    }
  }
}
