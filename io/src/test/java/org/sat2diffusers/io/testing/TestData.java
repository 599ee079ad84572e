package org.sat2diffusers.io.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository's testdata/ folder (Surefire passes it as testdata.dir). */
public final class TestData {
  private TestData() {}

  public static Path root() {
    String prop = System.getProperty("testdata.dir");
    if (prop != null && Files.isDirectory(Path.of(prop))) {
      return Path.of(prop);
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("testdata/sat"))) {
        return p.resolve("testdata");
      }
    }
    throw new IllegalStateException("testdata/ not found above " + Path.of("").toAbsolutePath());
  }

  public static Path path(String relative) {
    return root().resolve(relative);
  }
}
