package org.sat2diffusers.pipeline.run;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptions;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Stage;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Status;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.pipeline.steps.OutputReplacement;
import org.sat2diffusers.pipeline.steps.StagingFolder;
import org.sat2diffusers.pipeline.storage.OutputLock;
import org.sat2diffusers.pipeline.storage.OutputLockOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outputs of a run, each locked by the driver before anything is staged and released once the
 * pipeline (and with it every commit marker) has finished. An output another live run holds is
 * given up with an error (exit code 1; the other checkpoints go on); one that run committed while
 * this one waited is up to date; a staging folder that is a link is refused, and the leftovers of
 * a killed run are removed.
 */
final class LockedOutputs implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LockedOutputs.class);
  private final List<OutputLock> locks = new ArrayList<>();
  private final List<CheckpointJob> jobs = new ArrayList<>();
  private final List<CheckpointOutcome> refused = new ArrayList<>();

  private LockedOutputs() {}

  static LockedOutputs take(List<CheckpointJob> todo, PipelineOptions options, boolean overwrite) {
    LockedOutputs taken = new LockedOutputs();
    Duration wait = Duration.ofSeconds(options.as(OutputLockOptions.class).getOutputLockWaitSeconds());
    for (CheckpointJob job : todo) {
      OutputLock lock;
      try {
        lock = OutputLock.acquire(job.outputDir(), options, wait);
      } catch (IOException | RuntimeException e) {
        taken.refused.add(new CheckpointOutcome(job.id(), Status.FAILED, Stage.PLAN, ErrorText.of(e), 0, 0));
        continue;
      }
      taken.locks.add(lock);
      try {
        if (!overwrite && UpToDate.check(job)) {
          taken.refused.add(new CheckpointOutcome(job.id(), Status.SKIPPED, Stage.PLAN,
              "up to date (committed by another run meanwhile)", 0, 0));
          continue;
        }
        StagingFolder.prepare(job.outputDir());
        taken.jobs.add(job);
      } catch (IOException | RuntimeException e) {
        taken.refused.add(new CheckpointOutcome(job.id(), Status.FAILED, Stage.PLAN,
            job.outputDir() + ": " + ErrorText.of(e), 0, 0));
      }
    }
    return taken;
  }

  /**
   * An output that needs no writing, but where a killed run left its lock or staged files (it was
   * replacing the output with {@code --overwrite}, or was killed after its commit): cleaned up,
   * unless a live run holds it.
   */
  static void tidy(CheckpointJob job, PipelineOptions options) {
    try {
      if (!StorageFiles.exists(job.outputDir() + "/" + OutputLock.FILE) && !StagingFolder.exists(job.outputDir())) {
        return;
      }
      try (OutputLock lock = OutputLock.acquire(job.outputDir(), options, Duration.ZERO)) {
        StagingFolder.discard(job.outputDir());
        OutputReplacement.removeLeftProbes(job.outputDir());
      }
    } catch (OutputLock.Busy e) {
      // a live run is at work there
    } catch (IOException | RuntimeException e) {
      LOG.warn("{} is up to date, but what an earlier run left there cannot be removed: {}", job.outputDir(),
          ErrorText.of(e));
    }
  }

  /** The jobs whose outputs this run now holds, to convert. */
  List<CheckpointJob> jobs() {
    return jobs;
  }

  /** The outcomes of the jobs left out: held by another run, committed meanwhile, or a bad staging folder. */
  List<CheckpointOutcome> refused() {
    return refused;
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (OutputLock lock : locks) {
      try {
        lock.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
