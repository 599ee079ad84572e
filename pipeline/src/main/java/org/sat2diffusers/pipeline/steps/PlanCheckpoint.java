package org.sat2diffusers.pipeline.steps;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.transforms.convert.CheckpointPlan;
import org.sat2diffusers.transforms.convert.CheckpointPlanner;
import org.sat2diffusers.transforms.convert.Provenance;
import org.sat2diffusers.transforms.convert.SeparateVae;
import org.sat2diffusers.transforms.parallel.ReplicaCheck;

/**
 * Planning one checkpoint, in the three parts every front door shares: index its files, plan, and
 * make the checks that need tensor bytes. The pipeline ({@link IndexCheckpointFiles}, {@link
 * PlanConversions}) and the dry run call the same functions, so a dry run's plan is by construction
 * the plan the conversion executes; the dry run only skips {@link #checkBytes}, and its plan lists
 * those checks ({@link CheckpointPlan#replicaChecks}).
 */
public final class PlanCheckpoint {
  private PlanCheckpoint() {}

  /** One checkpoint file's tensor records: its zip directory and data.pkl only, no tensor bytes. */
  public static CheckpointIndex index(String file, SourceOpener opener) throws IOException {
    try (RandomAccessInput in = opener.open(file)) {
      return new TorchCheckpointReader().index(in);
    }
  }

  /**
   * The job's plan from its indexed files, given in the job's order (transformer ranks, then a VAE file);
   * a {@code --vae} file first checked to be a VAE joining a transformer.
   */
  public static CheckpointPlan plan(CheckpointJob job, List<CheckpointIndex> files) throws IOException {
    if (job.vae() != null) {
      SeparateVae.check(job.source(), job.vae(), files);
    }
    return CheckpointPlanner.plan(job.source(), files, job.settings(), Optional.ofNullable(job.runModelConfig()), provenance(job));
  }

  /**
   * The checks planning cannot make without tensor bytes: every tensor the model-parallel ranks each
   * hold in full must be the same in every rank.
   */
  public static void checkBytes(CheckpointPlan plan, SourceOpener opener) throws IOException {
    ReplicaCheck.verify(plan.replicaChecks(), opener);
  }

  /** What every header and the report record of where the job's output comes from. */
  public static Provenance provenance(CheckpointJob job) {
    return new Provenance(Version.current(), job.source(), job.iteration(), job.fingerprints());
  }
}
