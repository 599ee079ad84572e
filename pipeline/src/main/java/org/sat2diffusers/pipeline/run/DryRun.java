package org.sat2diffusers.pipeline.run;

import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.pipeline.steps.PlanConversions;
import org.sat2diffusers.pipeline.steps.RunModelConfigFile;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.transforms.convert.CheckpointPlan;
import org.sat2diffusers.transforms.convert.CheckpointPlanner;

/**
 * Everything a conversion does up to writing: index every file (zip directory and data.pkl only),
 * detect, map, group LoRA, check the schema, plan shards; then stop. Runs in the driver with the
 * same planner the pipeline uses, so the plan is what a real run writes.
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
        List<CheckpointIndex> files = new ArrayList<>();
        for (String file : job.files()) {
          try (RandomAccessInput in = opener.open(file)) {
            files.add(new TorchCheckpointReader().index(in));
          }
        }
        CheckpointJob fingerprinted = ConversionRun.fingerprinted(job); // the provenance a real run records
        out.add(new Planned(job, CheckpointPlanner.plan(job.source(), files, job.settings(), RunModelConfigFile.read(job),
            PlanConversions.provenance(fingerprinted)), null));
      } catch (Exception e) {
        out.add(new Planned(job, null, ErrorText.of(e)));
      }
    }
    return out;
  }
}
