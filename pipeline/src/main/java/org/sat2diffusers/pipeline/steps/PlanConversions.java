package org.sat2diffusers.pipeline.steps;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
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
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.transforms.records.SourcePart;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Stage;
import org.sat2diffusers.pipeline.records.CheckpointSummary;
import org.sat2diffusers.pipeline.records.ShardTask;
import org.sat2diffusers.transforms.convert.CheckpointPlan;
import org.sat2diffusers.transforms.shard.PlannedShard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per checkpoint, from its parts' tensor records and recipes: the plan ({@link PlanCheckpoint#plan}: merge
 * model-parallel ranks, map every key, detect the model, check the Diffusers schema, plan the shards),
 * then the checks that need tensor bytes ({@link PlanCheckpoint#checkBytes}: the ranks agree on the
 * tensors each holds in full). Emits one task per shard file and one summary for finalizing; a
 * checkpoint that cannot be planned becomes an outcome and writes nothing.
 */
public class PlanConversions extends PTransform<PCollection<KV<String, SourcePart>>, PCollectionTuple> {
  public static final TupleTag<ShardTask> SHARDS = new TupleTag<>() {};
  public static final TupleTag<KV<String, CheckpointSummary>> SUMMARIES = new TupleTag<>() {};

  private final PCollectionView<Map<String, CheckpointJob>> jobs;

  public PlanConversions(PCollectionView<Map<String, CheckpointJob>> jobs) {
    this.jobs = jobs;
  }

  @Override
  public PCollectionTuple expand(PCollection<KV<String, SourcePart>> indexed) {
    PCollectionTuple planned =
        indexed
            .apply("Gather files per checkpoint", GroupByKey.create())
            .apply("Plan each checkpoint", ParDo.of(new PlanFn(jobs)).withSideInputs(jobs)
                .withOutputTags(SHARDS, TupleTagList.of(SUMMARIES).and(Outcomes.TAG)));
    planned.get(SHARDS).setCoder(ShardTask.coder());
    planned.get(SUMMARIES).setCoder(KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(CheckpointSummary.class)));
    planned.get(Outcomes.TAG).setCoder(Outcomes.coder());
    return planned;
  }

  static class PlanFn extends DoFn<KV<String, Iterable<SourcePart>>, ShardTask> {
    private static final Logger LOG = LoggerFactory.getLogger(PlanConversions.class);
    private final Counter planned = Metrics.counter(RunCounters.NAMESPACE, RunCounters.CHECKPOINTS_PLANNED);
    private final Counter bytesPlanned = Metrics.counter(RunCounters.NAMESPACE, RunCounters.BYTES_PLANNED);
    private final PCollectionView<Map<String, CheckpointJob>> jobs;

    PlanFn(PCollectionView<Map<String, CheckpointJob>> jobs) {
      this.jobs = jobs;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      CheckpointJob job = c.sideInput(jobs).get(c.element().getKey());
      Map<String, SourcePart> byPath = new HashMap<>();
      for (SourcePart part : c.element().getValue()) {
        byPath.put(part.path(), part);
      }
      if (!byPath.keySet().containsAll(job.partPaths())) {
        return; // a part failed to read: its outcome is already reported
      }
      CheckpointPlan plan;
      try {
        plan = PlanCheckpoint.plan(job, job.partPaths().stream().map(byPath::get).toList());
        PlanCheckpoint.checkBytes(plan, RandomAccessInputs::open);
      } catch (Exception e) {
        c.output(Outcomes.TAG, Outcomes.orFailFast(c.getPipelineOptions(), Outcomes.failure(job.id(), Stage.PLAN, job.source(), e)));
        return;
      }
      LOG.info("{}: {} ({}); {} file(s) to write", job.source(), plan.detection().family().displayName(),
          plan.detection().reason(), plan.shards().size());
      planned.inc();
      bytesPlanned.inc(plan.shards().stream().mapToLong(PlannedShard::bytes).sum());
      List<String> shardPaths = new ArrayList<>();
      for (PlannedShard shard : plan.shards()) {
        shardPaths.add(shard.relativePath());
        c.output(new ShardTask(job.id(), job.stagingDir() + "/" + shard.relativePath(), plan.metadata(shard),
            shard.tensors()));
      }
      c.output(SUMMARIES, KV.of(job.id(),
          new CheckpointSummary(job.id(), plan.smallFiles(), shardPaths, plan.componentFolders(), plan.report(),
              plan.baseComponents())));
    }
  }
}
