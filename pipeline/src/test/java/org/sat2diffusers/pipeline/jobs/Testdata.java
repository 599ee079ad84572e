package org.sat2diffusers.pipeline.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** The repository's testdata/ folder: the {@code testdata.dir} property Surefire sets, else found walking up. */
final class Testdata {
  private Testdata() {}

  static Path dir() {
    String property = System.getProperty("testdata.dir");
    if (property != null && Files.isDirectory(Paths.get(property))) {
      return Paths.get(property);
    }
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("testdata/sat"))) {
        return dir.resolve("testdata");
      }
    }
    throw new IllegalStateException("testdata/ not found: set -Dtestdata.dir");
  }

  static Path sat() {
    return dir().resolve("sat");
  }
}
