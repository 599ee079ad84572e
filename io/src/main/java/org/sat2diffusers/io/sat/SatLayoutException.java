package org.sat2diffusers.io.sat;

import java.io.IOException;

/** A path that is not a SAT checkpoint in any layout this tool knows, with what was expected. */
public class SatLayoutException extends IOException {
  public SatLayoutException(String message) {
    super(message);
  }
}
