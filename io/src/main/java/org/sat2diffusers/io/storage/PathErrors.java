package org.sat2diffusers.io.storage;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import software.amazon.awssdk.core.exception.SdkException;

/** File-system errors that name the path they are about (Beam's and the stores' often do not). */
final class PathErrors {
  private PathErrors() {}

  static IOException naming(String path, String action, IOException e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof SdkException s3) {
        return S3Errors.of(path, action, s3); // status and S3 error code, said plainly
      }
    }
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (message.contains(path)) {
      return e;
    }
    if (e instanceof FileNotFoundException || e instanceof NoSuchFileException) {
      FileNotFoundException missing = new FileNotFoundException(path + ": not found (" + message + ")");
      missing.initCause(e);
      return missing;
    }
    return new IOException(path + ": " + action + ": " + message, e);
  }
}
