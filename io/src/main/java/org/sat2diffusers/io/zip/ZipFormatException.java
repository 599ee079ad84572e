package org.sat2diffusers.io.zip;

import java.io.IOException;

/** A zip archive that is malformed, or uses a feature a torch checkpoint never needs. */
public final class ZipFormatException extends IOException {
  public ZipFormatException(String message) {
    super(message);
  }
}
