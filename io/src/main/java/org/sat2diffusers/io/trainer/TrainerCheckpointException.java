package org.sat2diffusers.io.trainer;

import java.io.IOException;

/** A trainer's checkpoint folder that holds none of the layouts it should, or no model, with what was expected. */
public class TrainerCheckpointException extends IOException {
  public TrainerCheckpointException(String message) {
    super(message);
  }
}
