package org.sat2diffusers.pipeline.steps;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
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
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Stage;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Status;
import org.sat2diffusers.pipeline.records.CheckpointSummary;
import org.sat2diffusers.pipeline.records.ShardResult;
import org.sat2diffusers.pipeline.write.PendingShardUpload;
import org.sat2diffusers.transforms.convert.ConversionReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per checkpoint, once all its shards are written: check none is missing, write the configs and
 * indexes, stage the components taken from a base pipeline (linked or copied), replace the component
 * folders' old contents by the staged files (moved in; on S3, shards uploaded to their place are
 * completed there), then write the report and, last, the commit marker. Until the marker exists the output does not claim to be complete.
 */
public class FinalizeCheckpoints
    extends PTransform<KeyedPCollectionTuple<String>, PCollection<KV<String, CheckpointOutcome>>> {
  public static final TupleTag<CheckpointSummary> SUMMARY = new TupleTag<>() {};
  public static final TupleTag<ShardResult> RESULTS = new TupleTag<>() {};
  public static final String REPORT = "conversion_report.json";

  private final PCollectionView<Map<String, CheckpointJob>> jobs;

  public FinalizeCheckpoints(PCollectionView<Map<String, CheckpointJob>> jobs) {
    this.jobs = jobs;
  }

  @Override
  public PCollection<KV<String, CheckpointOutcome>> expand(KeyedPCollectionTuple<String> summariesAndResults) {
    return summariesAndResults
        .apply("Join plans with written shards", CoGroupByKey.create())
        .apply("Commit each checkpoint", ParDo.of(new CommitFn(jobs)).withSideInputs(jobs))
        .setCoder(Outcomes.coder());
  }

  static class CommitFn extends DoFn<KV<String, CoGbkResult>, KV<String, CheckpointOutcome>> {
    private static final Logger LOG = LoggerFactory.getLogger(FinalizeCheckpoints.class);
    private final PCollectionView<Map<String, CheckpointJob>> jobs;
    private final Counter done = Metrics.counter(RunCounters.NAMESPACE, RunCounters.CHECKPOINTS_CONVERTED);

    CommitFn(PCollectionView<Map<String, CheckpointJob>> jobs) {
      this.jobs = jobs;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      CheckpointJob job = c.sideInput(jobs).get(c.element().getKey());
      CheckpointSummary summary = c.element().getValue().getOnly(SUMMARY, null);
      if (summary == null) {
        return; // planning failed: already reported
      }
      List<ShardResult> results = new ArrayList<>();
      c.element().getValue().getAll(RESULTS).forEach(results::add);
      Set<String> written = results.stream().map(ShardResult::path).collect(Collectors.toSet());
      long missing = summary.shardPaths().stream().filter(p -> !written.contains(job.stagingDir() + "/" + p)).count();
      if (missing > 0) {
        discardStaging(job);
        c.output(Outcomes.orFailFast(c.getPipelineOptions(), KV.of(job.id(), new CheckpointOutcome(job.id(),
            Status.FAILED, Stage.COMMIT, job.source() + ": " + missing + " of " + summary.shardPaths().size()
                + " shards were not written; nothing was committed", 0, 0))));
        return;
      }
      String nonFinite = nonFinite(results);
      if (!nonFinite.isEmpty() && job.settings().failOnNonfinite()) {
        discardStaging(job);
        c.output(Outcomes.orFailFast(c.getPipelineOptions(), KV.of(job.id(), new CheckpointOutcome(job.id(),
            Status.FAILED, Stage.COMMIT, job.source() + ": --fail-on-nonfinite: tensors holding NaN or infinity"
                + " (nan,inf): " + nonFinite + "; nothing was committed", 0, 0))));
        return;
      }
      try {
        commit(job, summary, results, job.settings().checkFinite());
      } catch (Exception e) {
        discardStaging(job);
        c.output(Outcomes.orFailFast(c.getPipelineOptions(), Outcomes.failure(job.id(), Stage.COMMIT, job.outputDir(), e)));
        return;
      }
      done.inc();
      long tensors = results.stream().mapToLong(r -> r.tensorDigests().size()).sum();
      long bytes = results.stream().mapToLong(ShardResult::bytes).sum();
      LOG.info("committed {}: {} tensors, {} bytes in {} file(s)", job.outputDir(), tensors, bytes, results.size());
      c.output(KV.of(job.id(), new CheckpointOutcome(job.id(), Status.CONVERTED, Stage.COMMIT,
          "converted into " + job.outputDir(), tensors, bytes)));
    }

    /** A checkpoint that will not be committed leaves no staged files behind to fill the disk. */
    private static void discardStaging(CheckpointJob job) {
      try {
        StagingFolder.discard(job.outputDir());
      } catch (IOException | RuntimeException e) {
        LOG.warn("{}: cannot remove the staging folder of the failed conversion: {}", job.outputDir(), ErrorText.of(e));
      }
    }

    /** "file: tensor nan,inf; ..." for every written tensor holding NaN or infinity, or "". */
    private static String nonFinite(List<ShardResult> results) {
      List<String> found = new ArrayList<>();
      for (ShardResult r : results) {
        r.nonFinite().forEach((tensor, counts) ->
            found.add(r.path().substring(r.path().lastIndexOf('/') + 1) + ": " + tensor + " " + counts));
      }
      return String.join("; ", found);
    }

    /**
     * Everything that can fail without harm comes first (configs and the report staged, every path
     * checked to be inside the output and reached through no link, every folder checked writable);
     * only then is the old marker removed, the new files moved in over the old ones, what the new
     * output has no place for removed, and the new marker written last, atomically.
     */
    private static void commit(
        CheckpointJob job, CheckpointSummary summary, List<ShardResult> results, boolean finiteChecked)
        throws IOException {
      String out = job.outputDir();
      String staging = job.stagingDir();
      String marker = out + "/" + CommitMarker.FILE;
      OutputGuard.requireNoLinks(out, List.of(staging));
      for (Map.Entry<String, String> f : summary.smallFiles().entrySet()) {
        StorageFiles.writeStringAtomically(staging + "/" + f.getKey(), f.getValue());
      }
      List<String> staged = new ArrayList<>(summary.shardPaths());
      staged.addAll(new TreeMap<>(summary.smallFiles()).keySet());
      for (String component : summary.baseComponents()) {
        for (BaseComponentFiles.Staged f : BaseComponentFiles.stage(job.settings().basePipeline(), component, staging)) {
          staged.add(f.relativePath());
          LOG.debug("{}: {} from the base pipeline ({})", out, f.relativePath(), f.placement());
        }
      }
      StorageFiles.writeStringAtomically(staging + "/" + REPORT, report(summary, results, staging, finiteChecked));
      staged.add(REPORT);

      List<String> from = new ArrayList<>();
      List<String> to = new ArrayList<>();
      for (String relative : staged) {
        from.add(staging + "/" + relative);
        to.add(out + "/" + relative);
      }
      List<String> stale = OutputReplacement.staleFiles(out, staged, summary.components());
      List<String> touched = new ArrayList<>(from);
      touched.addAll(to);
      touched.addAll(stale);
      touched.add(marker);
      OutputGuard.requireNoLinks(out, touched);
      Set<String> folders = new TreeSet<>();
      for (String path : touched) {
        folders.add(path.substring(0, path.lastIndexOf('/')));
      }
      OutputReplacement.requireWritable(folders);
      Set<String> uploads = new TreeSet<>(); // shards uploaded to their place, left open (S3)
      if (!StorageFiles.isLocal(staging)) {
        StorageFiles.list(staging + "/**").stream().filter(PendingShardUpload::isRecord).forEach(uploads::add);
      }
      List<String> moveFrom = new ArrayList<>();
      List<String> moveTo = new ArrayList<>();
      Map<String, String> completing = new TreeMap<>(); // record -> where its shard goes
      for (int i = 0; i < from.size(); i++) {
        if (uploads.contains(PendingShardUpload.recordOf(from.get(i)))) {
          completing.put(PendingShardUpload.recordOf(from.get(i)), to.get(i));
        } else {
          moveFrom.add(from.get(i));
          moveTo.add(to.get(i));
        }
      }

      // from here on the output is being replaced: without a marker it claims nothing
      StorageFiles.delete(List.of(marker));
      StorageFiles.syncFolder(out);
      for (Map.Entry<String, String> upload : completing.entrySet()) {
        PendingShardUpload.complete(upload.getKey(), upload.getValue());
      }
      StorageFiles.move(moveFrom, moveTo);
      StorageFiles.delete(stale);
      OutputReplacement.removeEmptiedFolders(out, stale);
      List<String> leftovers = StorageFiles.list(staging + "/**"); // e.g. of an earlier run that crashed
      OutputGuard.requireNoLinks(out, leftovers);
      PendingShardUpload.abortAll(leftovers.stream().filter(f -> !completing.containsKey(f)).toList(), staging, out);
      StorageFiles.delete(leftovers);
      from.addAll(leftovers);
      StorageFiles.deleteEmptiedFolders(staging, from);
      for (String folder : folders) {
        if (!folder.startsWith(staging) && StorageFiles.isLocal(folder)
            && Files.isDirectory(StorageFiles.localPath(folder))) {
          StorageFiles.syncFolder(folder); // the moves are on disk before the marker says they are done
        }
      }
      StorageFiles.writeStringAtomically(marker, CommitMarker.render(job));
    }

    private static String report(
        CheckpointSummary summary, List<ShardResult> results, String staging, boolean finiteChecked) {
      List<ConversionReport.WrittenFile> files = new ArrayList<>();
      for (ShardResult r : results) {
        files.add(new ConversionReport.WrittenFile(
            r.path().substring(staging.length() + 1), r.bytes(), r.digest(), r.headerDigest(), r.tensorDigests(),
            r.nonFinite(), r.loraBlas()));
      }
      files.sort((a, b) -> a.path().compareTo(b.path()));
      return ConversionReport.finished(summary.report(), files, finiteChecked, summary.smallFiles());
    }
  }
}
