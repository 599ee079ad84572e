package org.sat2diffusers.pipeline.run;

import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.steps.FinalizeCheckpoints;
import org.sat2diffusers.pipeline.steps.IndexCheckpointFiles;
import org.sat2diffusers.pipeline.steps.Outcomes;
import org.sat2diffusers.pipeline.steps.PlanConversions;
import org.sat2diffusers.pipeline.steps.SummarizeRun;
import org.sat2diffusers.pipeline.steps.WriteShards;

/**
 * The conversion as a Beam pipeline, in the shape of DESIGN.md: jobs, index each file, plan per
 * checkpoint, write shards in parallel, finalize per checkpoint, summarize the run. Only tensor
 * records travel between steps; tensor bytes are range-read by the shard writers, straight from
 * the sources. Each step reports a checkpoint's failure as an outcome, so one bad checkpoint never
 * stops the others.
 */
public final class ConversionPipeline {
  private ConversionPipeline() {}

  /** @param runLogFile where the run's outcomes are written at the end (read back by the driver) */
  public static Pipeline build(PipelineOptions options, List<CheckpointJob> jobs, String runLogFile) {
    Pipeline pipeline = Pipeline.create(options);
    PCollection<CheckpointJob> jobCollection =
        pipeline.apply("Checkpoint jobs", Create.of(jobs).withCoder(CheckpointJob.coder()));
    PCollectionView<Map<String, CheckpointJob>> jobsById =
        jobCollection
            .apply("Key jobs by id", WithKeys.of(CheckpointJob::id).withKeyType(TypeDescriptors.strings()))
            .apply("Jobs as side input", View.asMap());

    PCollectionTuple indexed = jobCollection.apply("Index checkpoint files", new IndexCheckpointFiles());
    PCollectionTuple planned =
        indexed.get(IndexCheckpointFiles.INDEXED).apply("Plan conversions", new PlanConversions(jobsById));
    PCollectionTuple written = planned.get(PlanConversions.SHARDS).apply("Write shards", new WriteShards(jobsById));
    PCollection<KV<String, CheckpointOutcome>> committed =
        KeyedPCollectionTuple.of(FinalizeCheckpoints.SUMMARY, planned.get(PlanConversions.SUMMARIES))
            .and(FinalizeCheckpoints.RESULTS, written.get(WriteShards.WRITTEN))
            .apply("Finalize checkpoints", new FinalizeCheckpoints(jobsById));

    PCollectionList.of(indexed.get(Outcomes.TAG))
        .and(planned.get(Outcomes.TAG))
        .and(written.get(Outcomes.TAG))
        .and(committed)
        .apply("All outcomes", Flatten.pCollections())
        .apply("Summarize run", new SummarizeRun(runLogFile));
    return pipeline;
  }
}
