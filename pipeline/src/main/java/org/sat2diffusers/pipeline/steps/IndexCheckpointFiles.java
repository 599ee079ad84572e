package org.sat2diffusers.pipeline.steps;

import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Stage;
import org.sat2diffusers.pipeline.records.CheckpointIndexAvro;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every file of every job, read in parallel: the zip directory and data.pkl only, giving the tensor
 * records keyed by job id. No tensor bytes are read here. A file that cannot be indexed becomes an
 * outcome ({@link Outcomes#TAG}) for its checkpoint.
 */
public class IndexCheckpointFiles extends PTransform<PCollection<CheckpointJob>, PCollectionTuple> {
  public static final TupleTag<KV<String, CheckpointIndex>> INDEXED = new TupleTag<>() {};

  @Override
  public PCollectionTuple expand(PCollection<CheckpointJob> jobs) {
    PCollectionTuple indexed =
        jobs.apply("List checkpoint files", ParDo.of(new ListFilesFn()))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
            .apply("Spread files over workers", Reshuffle.viaRandomKey())
            .apply("Read zip directory and data.pkl",
                ParDo.of(new IndexFileFn()).withOutputTags(INDEXED, TupleTagList.of(Outcomes.TAG)));
    indexed.get(INDEXED).setCoder(KvCoder.of(StringUtf8Coder.of(), CheckpointIndexAvro.coder()));
    indexed.get(Outcomes.TAG).setCoder(Outcomes.coder());
    return indexed;
  }

  static class ListFilesFn extends DoFn<CheckpointJob, KV<String, String>> {
    @ProcessElement
    public void process(@Element CheckpointJob job, OutputReceiver<KV<String, String>> out) {
      for (String file : job.files()) {
        out.output(KV.of(job.id(), file));
      }
    }
  }

  static class IndexFileFn extends DoFn<KV<String, String>, KV<String, CheckpointIndex>> {
    private static final Logger LOG = LoggerFactory.getLogger(IndexCheckpointFiles.class);
    private final Counter files = Metrics.counter(RunCounters.NAMESPACE, RunCounters.FILES_INDEXED);
    private final Counter tensors = Metrics.counter(RunCounters.NAMESPACE, RunCounters.TENSORS_INDEXED);

    @ProcessElement
    public void process(@Element KV<String, String> job, MultiOutputReceiver out, PipelineOptions options) {
      String file = job.getValue();
      try {
        CheckpointIndex index = PlanCheckpoint.index(file, RandomAccessInputs::open);
        files.inc();
        tensors.inc(index.tensors().size());
        LOG.debug("indexed {}: {} tensors under '{}'", file, index.tensors().size(), index.wrapperKey());
        out.get(INDEXED).output(KV.of(job.getKey(), index));
      } catch (Exception e) {
        out.get(Outcomes.TAG).output(Outcomes.orFailFast(options, Outcomes.failure(job.getKey(), Stage.INDEX, file, e)));
      }
    }
  }
}
