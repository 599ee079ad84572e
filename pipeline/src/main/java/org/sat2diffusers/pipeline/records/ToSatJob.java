package org.sat2diffusers.pipeline.records;

import java.io.Serializable;
import java.util.Optional;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.reverse.SatRunPlanner;

/**
 * One Diffusers folder to write as a SAT run: what the {@code to-sat} command line or a {@code kind:
 * to-sat} manifest entry asks for. The values are checked here, once for both front doors.
 *
 * @param source the Diffusers folder (absolute path or URI)
 * @param output the SAT run folder (absolute path or URI)
 * @param iteration the iteration folder to write, which {@code latest} then names
 * @param model {@code auto} or a family's CLI name
 * @param dtype the cast of the transformer and the text encoder, or null to keep each tensor's own
 * @param loraRank the rank of the SAT lora2 to write the folder's adapter as, or null (refuse an adapter)
 */
public record ToSatJob(String source, String output, int iteration, String model, Dtype dtype, Integer loraRank)
    implements Serializable {
  /** @throws IllegalArgumentException naming the value that cannot work */
  public ToSatJob {
    if (iteration < 0) {
      throw new IllegalArgumentException("iteration must be 0 or more, got " + iteration);
    }
    if (loraRank != null && loraRank <= 0) {
      throw new IllegalArgumentException("lora rank must be positive, got " + loraRank);
    }
    family(model); // a bad name is refused before anything runs
  }

  /** What the planner needs of the job. */
  public SatRunPlanner.Settings settings() {
    return new SatRunPlanner.Settings(family(model), dtype, loraRank, iteration);
  }

  private static Optional<ModelFamily> family(String model) {
    return model.equals("auto") ? Optional.empty() : Optional.of(ModelFamily.fromCliName(model));
  }
}
