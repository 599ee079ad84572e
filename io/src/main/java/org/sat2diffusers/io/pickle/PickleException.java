package org.sat2diffusers.io.pickle;

import java.io.IOException;

/** A pickle that is malformed, exceeds a limit, or asks for something the restricted unpickler refuses. */
public final class PickleException extends IOException {
  public PickleException(String message) {
    super(message);
  }
}
