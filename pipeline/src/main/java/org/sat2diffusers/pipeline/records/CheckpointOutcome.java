package org.sat2diffusers.pipeline.records;

import java.io.Serializable;

/**
 * How one checkpoint of a run ended, reported by the step where it ended.
 *
 * @param checkpointId the job id
 * @param status what happened
 * @param stage where it ended: index, plan, write or commit (a skipped checkpoint: plan)
 * @param message what went wrong (file, tensor, what to do), or a one-line summary on success
 * @param tensors tensors written
 * @param bytesWritten bytes of weight files written
 */
public record CheckpointOutcome(
    String checkpointId, Status status, Stage stage, String message, long tensors, long bytesWritten)
    implements Serializable {
  public enum Status {
    /** Written and committed. */
    CONVERTED,
    /** Already converted from the same sources, converter version and options: left as it is. */
    SKIPPED,
    /** Refused before anything was written: the checkpoint (or an option for it) is not valid. */
    INVALID_INPUT,
    /** Failed while writing; nothing was committed for it. */
    FAILED
  }

  /** The pipeline steps, in order: an earlier stage's failure explains a later one. */
  public enum Stage {
    INDEX,
    PLAN,
    WRITE,
    COMMIT
  }

  /** Converted now or up to date from before. */
  public boolean succeeded() {
    return status == Status.CONVERTED || status == Status.SKIPPED;
  }
}
