package org.sat2diffusers.pipeline.steps;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointSummary;
import org.sat2diffusers.pipeline.records.IndexedFile;
import org.sat2diffusers.pipeline.records.ShardTask;
import org.sat2diffusers.transforms.convert.CheckpointPlan;
import org.sat2diffusers.transforms.convert.CheckpointPlanner;
import org.sat2diffusers.transforms.convert.PlannedShard;
import org.sat2diffusers.transforms.convert.SourceFile;

/**
 * Per checkpoint, from its tensor records: detect the model, map every key, group LoRA, check the
 * Diffusers schema, plan the shards. Emits one task per shard file and one summary for finalizing.
 */
public class PlanConversions extends PTransform<PCollection<KV<String, IndexedFile>>, PCollectionTuple> {
  public static final TupleTag<ShardTask> SHARDS = new TupleTag<>() {};
  public static final TupleTag<KV<String, CheckpointSummary>> SUMMARIES = new TupleTag<>() {};

  private final PCollectionView<Map<String, CheckpointJob>> jobs;

  public PlanConversions(PCollectionView<Map<String, CheckpointJob>> jobs) {
    this.jobs = jobs;
  }

  @Override
  public PCollectionTuple expand(PCollection<KV<String, IndexedFile>> indexed) {
    PCollectionTuple planned =
        indexed
            .apply("Gather files per checkpoint", GroupByKey.create())
            .apply(
                "Plan each checkpoint",
                ParDo.of(new PlanFn(jobs)).withSideInputs(jobs).withOutputTags(SHARDS, TupleTagList.of(SUMMARIES)));
    planned.get(SHARDS).setCoder(ShardTask.coder());
    planned
        .get(SUMMARIES)
        .setCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(CheckpointSummary.class)));
    return planned;
  }

  static class PlanFn extends DoFn<KV<String, Iterable<IndexedFile>>, ShardTask> {
    private final PCollectionView<Map<String, CheckpointJob>> jobs;

    PlanFn(PCollectionView<Map<String, CheckpointJob>> jobs) {
      this.jobs = jobs;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      CheckpointJob job = c.sideInput(jobs).get(c.element().getKey());
      Map<String, IndexedFile> byFile = new HashMap<>();
      for (IndexedFile f : c.element().getValue()) {
        byFile.put(f.file(), f);
      }
      List<SourceFile> sources = new ArrayList<>();
      for (String file : job.files()) { // the job's order: transformer ranks, then a separate VAE file
        IndexedFile f = byFile.get(file);
        sources.add(new SourceFile(f.file(), f.wrapper(), f.tensors()));
      }
      CheckpointPlan plan = CheckpointPlanner.plan(job.source(), sources, job.settings());
      List<String> shardPaths = new ArrayList<>();
      for (PlannedShard shard : plan.shards()) {
        shardPaths.add(shard.relativePath());
        c.output(new ShardTask(job.id(), job.stagingDir() + "/" + shard.relativePath(), plan.shardMetadata(), shard.tensors()));
      }
      c.output(
          SUMMARIES,
          KV.of(
              job.id(),
              new CheckpointSummary(job.id(), plan.smallFiles(), shardPaths, plan.componentFolders(), plan.reportJson())));
    }
  }
}
