package org.sat2diffusers.pipeline.cli;

import java.nio.file.Path;

/** Command-line paths: URIs (s3://, hdfs://, ...) pass through; local paths become absolute. */
final class Paths2 {
  private Paths2() {}

  static String absolute(String path) {
    if (path.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
      return path;
    }
    return Path.of(path).toAbsolutePath().normalize().toString();
  }
}
