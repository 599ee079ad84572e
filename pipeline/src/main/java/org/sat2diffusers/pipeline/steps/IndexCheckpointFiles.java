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
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Stage;
import org.sat2diffusers.pipeline.records.SourcePartAvro;
import org.sat2diffusers.transforms.records.SourcePart;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every part of every job, read in parallel: each torch file's zip directory and data.pkl, each
 * recipe folder's pickles (a ZeRO save's ranks), giving the parts keyed by job id. No tensor bytes are
 * read here. A part that cannot be read becomes an outcome ({@link Outcomes#TAG}) for its checkpoint.
 */
public class IndexCheckpointFiles extends PTransform<PCollection<CheckpointJob>, PCollectionTuple> {
  public static final TupleTag<KV<String, SourcePart>> INDEXED = new TupleTag<>() {};

  @Override
  public PCollectionTuple expand(PCollection<CheckpointJob> jobs) {
    PCollectionTuple indexed =
        jobs.apply("List checkpoint parts", ParDo.of(new ListPartsFn()))
            .setCoder(KvCoder.of(CheckpointJob.coder(), StringUtf8Coder.of()))
            .apply("Spread parts over workers", Reshuffle.viaRandomKey())
            .apply("Read zip directories and pickles",
                ParDo.of(new ReadPartFn()).withOutputTags(INDEXED, TupleTagList.of(Outcomes.TAG)));
    indexed.get(INDEXED).setCoder(KvCoder.of(StringUtf8Coder.of(), SourcePartAvro.coder()));
    indexed.get(Outcomes.TAG).setCoder(Outcomes.coder());
    return indexed;
  }

  /** Each job with each of its parts ({@link CheckpointJob#partPaths}): a torch file, or a recipe folder. */
  static class ListPartsFn extends DoFn<CheckpointJob, KV<CheckpointJob, String>> {
    @ProcessElement
    public void process(@Element CheckpointJob job, OutputReceiver<KV<CheckpointJob, String>> out) {
      for (String part : job.partPaths()) {
        out.output(KV.of(job, part));
      }
    }
  }

  static class ReadPartFn extends DoFn<KV<CheckpointJob, String>, KV<String, SourcePart>> {
    private static final Logger LOG = LoggerFactory.getLogger(IndexCheckpointFiles.class);
    private final Counter files = Metrics.counter(RunCounters.NAMESPACE, RunCounters.FILES_INDEXED);
    private final Counter tensors = Metrics.counter(RunCounters.NAMESPACE, RunCounters.TENSORS_INDEXED);

    @ProcessElement
    public void process(@Element KV<CheckpointJob, String> part, MultiOutputReceiver out, PipelineOptions options) {
      CheckpointJob job = part.getKey();
      String path = part.getValue();
      try {
        SourcePart read = PlanCheckpoint.read(job, path, RandomAccessInputs::open);
        files.inc(read.files().size());
        tensors.inc(read.tensorCount());
        LOG.debug("read {}: {} tensors", path, read.tensorCount());
        out.get(INDEXED).output(KV.of(job.id(), read));
      } catch (Exception e) {
        out.get(Outcomes.TAG).output(Outcomes.orFailFast(options, Outcomes.failure(job.id(), Stage.INDEX, path, e)));
      }
    }
  }
}
