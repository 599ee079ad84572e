package org.sat2diffusers.io.deepspeed;

import java.io.IOException;

/** A ZeRO checkpoint that cannot be assembled; {@link #problem()} says how, the message names the file. */
public final class ZeroCheckpointException extends IOException {
  /** The ways a set of ZeRO files can be wrong, after the checks DeepSpeed's zero_to_fp32.py makes. */
  public enum Problem {
    /** The folder holds no DeepSpeed model states or no optimizer partitions, or {@code latest} names no folder. */
    NOT_A_ZERO_CHECKPOINT,
    /** A rank's optimizer partition or model states file the others call for is absent. */
    MISSING_FILE,
    /** A file is not a readable torch checkpoint: cut short or damaged. */
    UNREADABLE_FILE,
    /** A file lacks an entry DeepSpeed writes, or holds it in another form. */
    MALFORMED,
    /** Files disagree on the data-parallel world size (partition_count, dp_world_size). */
    WORLD_SIZE_MISMATCH,
    /** Files that come from different runs or steps (optimizer step, stage, version, groups). */
    OTHER_RUN,
    /** The partitions hold fewer elements than the parameters need. */
    ELEMENTS_MISSING,
    /** The partitions hold more elements than the parameters and padding account for. */
    ELEMENTS_LEFT_OVER,
    /** {@code module} weights asked of a ZeRO-3 checkpoint, whose module tensors are empty placeholders. */
    MODULE_IS_PLACEHOLDER
  }

  private final Problem problem;
  private final String file;

  public ZeroCheckpointException(Problem problem, String file, String detail) {
    super(file + ": " + detail + " (" + problem + ")");
    this.problem = problem;
    this.file = file;
  }

  public Problem problem() {
    return problem;
  }

  /** The file (or folder) concerned. */
  public String file() {
    return file;
  }
}
