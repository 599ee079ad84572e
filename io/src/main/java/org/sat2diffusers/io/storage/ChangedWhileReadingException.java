package org.sat2diffusers.io.storage;

import java.io.IOException;

/** A file (an S3 object) was replaced while it was being read: reading it again may succeed. */
public final class ChangedWhileReadingException extends IOException {
  public ChangedWhileReadingException(String message) {
    super(message);
  }
}
