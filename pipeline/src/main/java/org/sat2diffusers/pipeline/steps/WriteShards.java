package org.sat2diffusers.pipeline.steps;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
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
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.storage.CountingRandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Stage;
import org.sat2diffusers.pipeline.records.ShardResult;
import org.sat2diffusers.pipeline.records.ShardTask;
import org.sat2diffusers.pipeline.write.ShardFileWriter;
import org.sat2diffusers.pipeline.write.ShardWriteOptions;
import org.sat2diffusers.pipeline.write.ShardWriter;
import org.sat2diffusers.transforms.lora.LoraMergeKernel;
import org.sat2diffusers.transforms.records.OutputTensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes every planned shard, in parallel across checkpoints and shards: range-reads exactly the
 * source bytes its tensors need and writes the safetensors file into the staging folder, through
 * the {@link ShardWriter} the options name (by default {@link
 * org.sat2diffusers.pipeline.write.ShardFiles}: local files in parallel, other stores as one stream).
 */
public class WriteShards extends PTransform<PCollection<ShardTask>, PCollectionTuple> {
  public static final TupleTag<KV<String, ShardResult>> WRITTEN = new TupleTag<>() {};

  /** The jobs by id: a shard is written as its job's settings say (digest, NaN/infinity count). */
  private final PCollectionView<Map<String, CheckpointJob>> jobs;

  public WriteShards(PCollectionView<Map<String, CheckpointJob>> jobs) {
    this.jobs = jobs;
  }

  @Override
  public PCollectionTuple expand(PCollection<ShardTask> tasks) {
    PCollectionTuple written =
        tasks
            .apply("Spread shards over workers", Reshuffle.viaRandomKey())
            .apply("Range-read sources and write safetensors",
                ParDo.of(new WriteShardFn(jobs)).withSideInputs(jobs).withOutputTags(WRITTEN, TupleTagList.of(Outcomes.TAG)));
    written.get(WRITTEN).setCoder(KvCoder.of(StringUtf8Coder.of(), ShardResult.coder()));
    written.get(Outcomes.TAG).setCoder(Outcomes.coder());
    return written;
  }

  static class WriteShardFn extends DoFn<ShardTask, KV<String, ShardResult>> {
    private static final Logger LOG = LoggerFactory.getLogger(WriteShards.class);
    /** A failed write (a broken connection, a full disk that another job frees) is tried this often in all. */
    private static final int ATTEMPTS = 3;
    private static final AtomicBoolean BLAS_LOGGED = new AtomicBoolean();
    private final Counter shards = Metrics.counter(RunCounters.NAMESPACE, RunCounters.SHARDS_WRITTEN);
    private final Counter bytes = Metrics.counter(RunCounters.NAMESPACE, RunCounters.BYTES_WRITTEN);
    private final Counter bytesRead = Metrics.counter(RunCounters.NAMESPACE, RunCounters.BYTES_READ);
    private final Counter tensors = Metrics.counter(RunCounters.NAMESPACE, RunCounters.TENSORS_WRITTEN);

    private final PCollectionView<Map<String, CheckpointJob>> jobs;
    private transient ShardWriter writer;

    WriteShardFn(PCollectionView<Map<String, CheckpointJob>> jobs) {
      this.jobs = jobs;
    }

    @ProcessElement
    public void process(@Element ShardTask task, MultiOutputReceiver out, PipelineOptions options, ProcessContext c) {
      CheckpointJob job = c.sideInput(jobs).get(task.checkpointId());
      if (StagingFolder.hasFailed(job.outputDir())) {
        return; // another shard of the checkpoint failed (reported there): this one's space stays free
      }
      Digest digest = job.settings().digest();
      if (writer == null) {
        writer = ShardWriteOptions.writer(options);
      }
      ShardFileWriter.Written written = null;
      List<CountingRandomAccessInput> opened = Collections.synchronizedList(new ArrayList<>());
      SourceOpener counting = file -> {
        CountingRandomAccessInput in = new CountingRandomAccessInput(RandomAccessInputs.open(file));
        opened.add(in);
        return in;
      };
      // where the commit will put it: S3 uploads it there at once (no copy at the commit), unless the
      // finite check must read the shard back before the commit
      String finalPath = job.settings().checkFinite() ? null
          : job.outputDir() + task.path().substring(job.stagingDir().length());
      for (int attempt = 1; written == null; attempt++) {
        try {
          // each attempt creates the file afresh (truncating an earlier attempt's) and writes it from its start
          written = writer.write(task.path(), finalPath, task.tensors(), task.metadata(), counting, digest);
        } catch (Exception e) {
          if (attempt < ATTEMPTS && !Outcomes.isInvalidInput(e)) {
            LOG.warn("writing {} failed (attempt {} of {}), retrying: {}", task.path(), attempt, ATTEMPTS,
                ErrorText.of(e));
            continue;
          }
          fail(job, task, e, options, out);
          return;
        }
      }
      if (StagingFolder.hasFailed(job.outputDir())) {
        StagingFolder.removeFailedFile(task.path()); // the checkpoint failed while this shard was written
        return;
      }
      long read;
      synchronized (opened) {
        read = opened.stream().mapToLong(CountingRandomAccessInput::bytesRead).sum();
      }
      bytesRead.inc(read);
      shards.inc();
      bytes.inc(written.fileBytes());
      tensors.inc(task.tensors().size());
      LOG.info("wrote {} ({} tensors, {} bytes)", task.path(), task.tensors().size(), written.fileBytes());
      if (LOG.isDebugEnabled()) {
        for (OutputTensor t : task.tensors()) {
          LOG.debug("  {} {} {} <- {}", t.name(), t.dtype(), t.shape(), t.sourceKeys());
        }
      }
      Map<String, String> nonFinite;
      try {
        nonFinite = job.settings().checkFinite() ? NonFiniteCheck.of(task.path()) : Map.of();
      } catch (Exception e) {
        fail(job, task, e, options, out);
        return;
      }
      out.get(WRITTEN).output(KV.of(task.checkpointId(), new ShardResult(task.checkpointId(), task.path(),
          written.fileBytes(), digest.label(), written.headerDigest(),
          written.tensorDigests(), nonFinite, loraBlas(task))));
    }

    /** The shard failed for good: so has its checkpoint, whose staged files are removed before the run goes on. */
    private static void fail(CheckpointJob job, ShardTask task, Exception e, PipelineOptions options,
        MultiOutputReceiver out) {
      StagingFolder.failCheckpoint(job.outputDir());
      out.get(Outcomes.TAG).output(
          Outcomes.orFailFast(options, Outcomes.failure(task.checkpointId(), Stage.WRITE, task.path(), e)));
    }

    /** The BLAS that multiplied this shard's LoRA products (logged once per worker), or "" when none did. */
    private static String loraBlas(ShardTask task) {
      if (task.tensors().stream().noneMatch(t -> t.lora() != null)) {
        return "";
      }
      String blas = LoraMergeKernel.implementation();
      if (BLAS_LOGGED.compareAndSet(false, true)) {
        LOG.debug("LoRA merges multiply with {}", blas);
      }
      return blas;
    }
  }
}
