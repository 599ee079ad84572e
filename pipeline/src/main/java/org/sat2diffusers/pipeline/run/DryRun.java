package org.sat2diffusers.pipeline.run;

import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.transforms.records.SourcePart;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.pipeline.steps.PlanCheckpoint;
import org.sat2diffusers.transforms.convert.CheckpointPlan;

/**
 * Everything a conversion does up to writing, in the driver, with the functions the pipeline's steps
 * use ({@link PlanCheckpoint}): read every part (zip directories and pickles only), plan; then stop.
 * The plan is therefore the one a real run writes. Reading no tensor bytes, it leaves the checks that
 * need them ({@link CheckpointPlan#replicaChecks}) to the conversion, and its plan lists them.
 */
public final class DryRun {
  /** One checkpoint's plan, or why it cannot be converted. */
  public record Planned(CheckpointJob job, CheckpointPlan plan, String error) {
    public boolean ok() {
      return plan != null;
    }
  }

  private DryRun() {}

  public static List<Planned> plan(List<CheckpointJob> jobs, SourceOpener opener) {
    List<Planned> out = new ArrayList<>();
    for (CheckpointJob job : jobs) {
      try {
        List<SourcePart> parts = new ArrayList<>();
        for (String part : job.partPaths()) {
          parts.add(PlanCheckpoint.read(job, part, opener));
        }
        // fingerprinted as a real run's jobs are, for the provenance it records
        out.add(new Planned(job, PlanCheckpoint.plan(ConversionRun.fingerprinted(job), parts), null));
      } catch (Exception e) {
        out.add(new Planned(job, null, ErrorText.of(e)));
      }
    }
    return out;
  }
}
