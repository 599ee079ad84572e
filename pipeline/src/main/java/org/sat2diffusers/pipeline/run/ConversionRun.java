package org.sat2diffusers.pipeline.run;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptions;
import org.sat2diffusers.io.storage.FileFingerprint;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.torch.CheckpointFingerprints;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Stage;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Status;
import org.sat2diffusers.pipeline.steps.RunLog;
import org.sat2diffusers.transforms.config.BasePipeline;

/**
 * One run as the driver sees it: fingerprint the sources, skip the outputs that are up to date,
 * run the pipeline over the rest while reporting progress, and read back every checkpoint's outcome.
 */
public final class ConversionRun {
  private final PipelineOptions options;
  private final String runLogDir;
  private final boolean overwrite;
  private final long progressEveryMillis;
  private final Consumer<String> progress;

  /**
   * @param runLogDir where the workers leave the run's outcomes for the driver: a folder both can
   *     reach (this machine's temp folder for embedded runners, shared storage for a cluster)
   */
  public ConversionRun(
      PipelineOptions options, String runLogDir, boolean overwrite, long progressEveryMillis, Consumer<String> progress) {
    this.options = options;
    this.runLogDir = runLogDir;
    this.overwrite = overwrite;
    this.progressEveryMillis = progressEveryMillis;
    this.progress = progress;
  }

  /** Converts the jobs; one outcome per job, in no particular order. */
  public List<CheckpointOutcome> execute(List<CheckpointJob> jobs) throws Exception {
    List<CheckpointOutcome> outcomes = new ArrayList<>();
    List<CheckpointJob> todo = new ArrayList<>();
    for (CheckpointJob job : jobs) {
      CheckpointJob fingerprinted = fingerprinted(job);
      if (!overwrite && UpToDate.check(fingerprinted)) {
        LockedOutputs.tidy(job, options); // what a run killed there may have left
        outcomes.add(new CheckpointOutcome(job.id(), Status.SKIPPED, Stage.PLAN, "up to date", 0, 0));
      } else {
        todo.add(fingerprinted);
      }
    }
    if (todo.isEmpty()) {
      return outcomes;
    }
    try (LockedOutputs locked = LockedOutputs.take(todo, options, overwrite)) {
      outcomes.addAll(locked.refused());
      if (!locked.jobs().isEmpty()) {
        outcomes.addAll(run(locked.jobs()));
      }
    }
    return outcomes;
  }

  private List<CheckpointOutcome> run(List<CheckpointJob> todo) throws Exception {
    String runLog = runLogDir + "/sat2diffusers-run-" + UUID.randomUUID() + ".json";
    if (options.getRunner() == DirectRunner.class) {
      options.as(DirectOptions.class).setBlockOnRun(false); // so progress can be reported meanwhile
    }
    PipelineResult result = ConversionPipeline.build(options, todo, runLog).run();
    ProgressReporter.follow(result, progressEveryMillis, todo.size(), progress);
    List<CheckpointOutcome> outcomes = RunLog.fromJson(StorageFiles.readString(runLog, 64 << 20));
    StorageFiles.delete(List.of(runLog));
    return outcomes;
  }

  /**
   * The job with the fingerprints, as they are now, of its files and of every file of its base
   * pipeline's model_index.json and component folders (the commit marker records both).
   */
  static CheckpointJob fingerprinted(CheckpointJob job) throws IOException {
    List<FileFingerprint> sources = new ArrayList<>();
    for (String file : job.files()) {
      sources.add(CheckpointFingerprints.of(file));
    }
    List<FileFingerprint> base = new ArrayList<>();
    BasePipeline basePipeline = job.settings().basePipeline();
    if (basePipeline != null) {
      List<String> files = new ArrayList<>(List.of(basePipeline.dir() + "/model_index.json"));
      for (String folder : basePipeline.folders()) {
        files.addAll(StorageFiles.list(basePipeline.dir() + "/" + folder + "/**"));
      }
      for (String file : new TreeSet<>(files)) {
        base.add(StorageFiles.fingerprint(file));
      }
    }
    return job.withFingerprints(sources, base);
  }
}
