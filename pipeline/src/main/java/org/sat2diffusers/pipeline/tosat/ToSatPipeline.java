package org.sat2diffusers.pipeline.tosat;

import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.records.ToSatJob;
import org.sat2diffusers.pipeline.steps.Outcomes;
import org.sat2diffusers.pipeline.steps.SummarizeRun;

/**
 * {@code to-sat} as a Beam pipeline: each Diffusers folder one element, converted whole by one worker
 * (a SAT checkpoint is one file, streamed once from the folder's files), and the run's outcomes
 * written as {@code convert}'s run log, which the driver reads back for its summary and exit code.
 */
public final class ToSatPipeline {
  private ToSatPipeline() {}

  /** @param runLogFile where the run's outcomes are written at the end */
  public static Pipeline build(PipelineOptions options, List<ToSatJob> jobs, String runLogFile) {
    Pipeline pipeline = Pipeline.create(options);
    pipeline
        .apply("Diffusers folders", Create.of(jobs).withCoder(SerializableCoder.of(ToSatJob.class)))
        .apply("Spread over workers", Reshuffle.viaRandomKey())
        .apply("Write SAT runs", ParDo.of(new WriteSatRunFn()))
        .setCoder(Outcomes.coder())
        .apply("Summarize run", new SummarizeRun(runLogFile));
    return pipeline;
  }

  static class WriteSatRunFn extends DoFn<ToSatJob, KV<String, CheckpointOutcome>> {
    @ProcessElement
    public void process(@Element ToSatJob job, PipelineOptions options, OutputReceiver<KV<String, CheckpointOutcome>> out) {
      out.output(KV.of(job.output(), DiffusersFolderConversion.run(job, options)));
    }
  }
}
