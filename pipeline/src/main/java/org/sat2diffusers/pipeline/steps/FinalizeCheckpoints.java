package org.sat2diffusers.pipeline.steps;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointSummary;
import org.sat2diffusers.pipeline.records.ShardResult;
import org.sat2diffusers.transforms.convert.ConversionReport;

/**
 * Per checkpoint, once all its shards are written: check none is missing, write the configs and
 * indexes, replace the component folders' old contents by the staged files, then write the report
 * and, last, the commit marker. Until the marker exists the output does not claim to be complete.
 */
public class FinalizeCheckpoints extends PTransform<KeyedPCollectionTuple<String>, PCollection<KV<String, String>>> {
  public static final TupleTag<CheckpointSummary> SUMMARY = new TupleTag<>() {};
  public static final TupleTag<ShardResult> RESULTS = new TupleTag<>() {};
  public static final String MARKER = "_SUCCESS";
  public static final String REPORT = "conversion_report.json";

  private final PCollectionView<Map<String, CheckpointJob>> jobs;

  public FinalizeCheckpoints(PCollectionView<Map<String, CheckpointJob>> jobs) {
    this.jobs = jobs;
  }

  @Override
  public PCollection<KV<String, String>> expand(KeyedPCollectionTuple<String> summariesAndResults) {
    return summariesAndResults
        .apply("Join plans with written shards", CoGroupByKey.create())
        .apply("Commit each checkpoint", ParDo.of(new CommitFn(jobs)).withSideInputs(jobs))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()));
  }

  static class CommitFn extends DoFn<KV<String, CoGbkResult>, KV<String, String>> {
    private final PCollectionView<Map<String, CheckpointJob>> jobs;
    private final Counter done = Metrics.counter(FinalizeCheckpoints.class, "checkpoints_done");

    CommitFn(PCollectionView<Map<String, CheckpointJob>> jobs) {
      this.jobs = jobs;
    }

    @ProcessElement
    public void process(ProcessContext c) throws IOException {
      CheckpointJob job = c.sideInput(jobs).get(c.element().getKey());
      CheckpointSummary summary = c.element().getValue().getOnly(SUMMARY);
      List<ShardResult> results = new ArrayList<>();
      c.element().getValue().getAll(RESULTS).forEach(results::add);
      checkAllShardsWritten(job, summary, results);

      String out = job.outputDir();
      String staging = job.stagingDir();
      StorageFiles.delete(List.of(out + "/" + MARKER));
      for (Map.Entry<String, String> f : summary.smallFiles().entrySet()) {
        StorageFiles.writeString(staging + "/" + f.getKey(), f.getValue());
      }
      List<String> staged = new ArrayList<>(summary.shardPaths());
      staged.addAll(new TreeMap<>(summary.smallFiles()).keySet());
      for (String component : summary.components()) { // no stale shards of an older, different result
        StorageFiles.delete(StorageFiles.list(out + "/" + component + "/*"));
      }
      List<String> from = new ArrayList<>();
      List<String> to = new ArrayList<>();
      for (String relative : staged) {
        from.add(staging + "/" + relative);
        to.add(out + "/" + relative);
      }
      StorageFiles.move(from, to);
      StorageFiles.delete(StorageFiles.list(staging + "/**"));

      Map<String, ShardResult> byPath = new TreeMap<>();
      for (ShardResult r : results) {
        byPath.put(r.path().substring(staging.length() + 1), r);
      }
      StorageFiles.writeString(out + "/" + REPORT, ConversionReport.withWrittenFiles(summary.reportJson(), written(byPath)));
      StorageFiles.writeString(out + "/" + MARKER, ConversionReport.marker(job.source(), job.iteration()));
      done.inc();
      c.output(KV.of(job.id(), out));
    }

    private static List<ConversionReport.WrittenFile> written(Map<String, ShardResult> byPath) {
      List<ConversionReport.WrittenFile> files = new ArrayList<>();
      byPath.forEach((path, r) -> files.add(new ConversionReport.WrittenFile(path, r.bytes(), r.sha256(), r.tensorSha256())));
      return files;
    }

    private static void checkAllShardsWritten(CheckpointJob job, CheckpointSummary summary, List<ShardResult> results) {
      Set<String> written = new HashSet<>();
      for (ShardResult r : results) {
        written.add(r.path());
      }
      for (String relative : summary.shardPaths()) {
        if (!written.contains(job.stagingDir() + "/" + relative)) {
          throw new IllegalStateException(
              job.source() + ": shard " + relative + " was planned but not written; nothing was committed");
        }
      }
    }
  }
}
