package org.sat2diffusers.io.torch;

import java.io.IOException;

/** A torch checkpoint whose content is not what a state dict checkpoint must be; the message names the file. */
public final class CheckpointFormatException extends IOException {
  public CheckpointFormatException(String message) {
    super(message);
  }
}
