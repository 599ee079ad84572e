package org.sat2diffusers.io.storage;

import java.io.IOException;

/** A file read whole (a config, a manifest) is larger than such a file can sensibly be: bad input, not a fault. */
public class FileTooLargeException extends IOException {
  public FileTooLargeException(String message) {
    super(message);
  }
}
