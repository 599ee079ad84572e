package org.sat2diffusers.pipeline.steps;

import java.nio.channels.WritableByteChannel;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.util.MimeTypes;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.pipeline.records.ShardResult;
import org.sat2diffusers.pipeline.records.ShardTask;
import org.sat2diffusers.transforms.convert.ShardFileWriter;

/**
 * Writes every planned shard, in parallel across checkpoints and shards: range-reads exactly the
 * source bytes its tensors need and streams the safetensors file into the staging folder.
 */
public class WriteShards extends PTransform<PCollection<ShardTask>, PCollection<KV<String, ShardResult>>> {
  @Override
  public PCollection<KV<String, ShardResult>> expand(PCollection<ShardTask> tasks) {
    return tasks
        .apply("Spread shards over workers", Reshuffle.viaRandomKey())
        .apply("Range-read sources and write safetensors", ParDo.of(new WriteShardFn()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), ShardResult.coder()));
  }

  static class WriteShardFn extends DoFn<ShardTask, KV<String, ShardResult>> {
    private final Counter shards = Metrics.counter(WriteShards.class, "shards_written");
    private final Counter bytes = Metrics.counter(WriteShards.class, "bytes_written");
    private final Counter tensors = Metrics.counter(WriteShards.class, "tensors_written");

    @ProcessElement
    public void process(@Element ShardTask task, OutputReceiver<KV<String, ShardResult>> out) throws Exception {
      ShardFileWriter.Written written;
      try (WritableByteChannel channel =
          FileSystems.create(FileSystems.matchNewResource(task.path(), false), MimeTypes.BINARY)) {
        written = ShardFileWriter.write(task.path(), task.tensors(), task.metadata(), RandomAccessInputs::open, channel);
      }
      shards.inc();
      bytes.inc(written.fileBytes());
      tensors.inc(task.tensors().size());
      out.output(
          KV.of(
              task.checkpointId(),
              new ShardResult(task.checkpointId(), task.path(), written.fileBytes(), written.sha256(), written.tensorSha256())));
    }
  }
}
