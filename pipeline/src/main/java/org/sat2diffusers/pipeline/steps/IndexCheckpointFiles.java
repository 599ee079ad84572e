package org.sat2diffusers.pipeline.steps;

import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.IndexedFile;

/**
 * Every file of every job, read in parallel: the zip directory and data.pkl only, giving the tensor
 * records keyed by job id. No tensor bytes are read here.
 */
public class IndexCheckpointFiles extends PTransform<PCollection<CheckpointJob>, PCollection<KV<String, IndexedFile>>> {
  @Override
  public PCollection<KV<String, IndexedFile>> expand(PCollection<CheckpointJob> jobs) {
    return jobs.apply("List checkpoint files", ParDo.of(new ListFilesFn()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
        .apply("Spread files over workers", Reshuffle.viaRandomKey())
        .apply("Read zip directory and data.pkl", ParDo.of(new IndexFileFn()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), IndexedFile.coder()));
  }

  static class ListFilesFn extends DoFn<CheckpointJob, KV<String, String>> {
    @ProcessElement
    public void process(@Element CheckpointJob job, OutputReceiver<KV<String, String>> out) {
      for (String file : job.files()) {
        out.output(KV.of(job.id(), file));
      }
    }
  }

  static class IndexFileFn extends DoFn<KV<String, String>, KV<String, IndexedFile>> {
    private final Counter files = Metrics.counter(IndexCheckpointFiles.class, "files_indexed");
    private final Counter tensors = Metrics.counter(IndexCheckpointFiles.class, "tensors_indexed");

    @ProcessElement
    public void process(@Element KV<String, String> job, OutputReceiver<KV<String, IndexedFile>> out)
        throws Exception {
      String file = job.getValue();
      CheckpointIndex index;
      try (RandomAccessInput in = RandomAccessInputs.open(file)) {
        index = new TorchCheckpointReader().index(in);
      }
      files.inc();
      tensors.inc(index.tensors().size());
      out.output(KV.of(job.getKey(), new IndexedFile(file, index.wrapperKey() == null ? "" : index.wrapperKey(), index.tensors())));
    }
  }
}
