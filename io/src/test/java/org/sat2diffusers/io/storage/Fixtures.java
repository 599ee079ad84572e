package org.sat2diffusers.io.storage;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Locates the repository's testdata/ folder and this module's test resources. */
public final class Fixtures {
  private Fixtures() {}

  /** testdata/, from the {@code testdata.dir} property Surefire sets, else found walking up from the working dir. */
  public static Path testdata() {
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

  /** A test resource by its path under src/test/resources, e.g. {@code org/sat2diffusers/io/zip/zip64.pt}. */
  public static Path resource(String name) {
    URL url = Fixtures.class.getClassLoader().getResource(name);
    if (url == null) {
      throw new IllegalStateException("test resource " + name + " not found");
    }
    try {
      return Paths.get(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
