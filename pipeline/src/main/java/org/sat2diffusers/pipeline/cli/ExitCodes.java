package org.sat2diffusers.pipeline.cli;

import java.util.Collection;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Status;

/** The documented exit codes. */
public final class ExitCodes {
  /** Every checkpoint converted (or skipped as up to date). */
  public static final int OK = 0;
  /** Some checkpoints failed while being written; the others finished. */
  public static final int FAILED = 1;
  /** A usage or manifest error: nothing was done. */
  public static final int USAGE = 2;
  /** Invalid input, refused before anything was written for it. */
  public static final int INVALID_INPUT = 3;

  public static final String HELP =
      "Exit codes: 0 all converted or up to date; 1 some checkpoints failed while writing (the others finished, nothing"
          + " incomplete was committed); 2 usage or manifest error; 3 invalid input refused before any write.";

  private ExitCodes() {}

  /** A failure while writing outranks an input refusal: it is the one that needs a person first. */
  public static int of(Collection<CheckpointOutcome> outcomes) {
    if (outcomes.stream().anyMatch(o -> o.status() == Status.FAILED)) {
      return FAILED;
    }
    return outcomes.stream().anyMatch(o -> o.status() == Status.INVALID_INPUT) ? INVALID_INPUT : OK;
  }
}
