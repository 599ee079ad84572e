package org.sat2diffusers.pipeline.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Where the pipeline tests find the repository and its testdata/ folder, and how they copy fixture folders. */
public final class TestPaths {
  private TestPaths() {}

  /** testdata/: the {@code testdata.dir} property Surefire and Failsafe set, else found walking up from the working directory. */
  public static Path testdata() {
    String property = System.getProperty("testdata.dir");
    if (property != null) {
      if (!Files.isDirectory(Path.of(property))) {
        throw new IllegalStateException("system property testdata.dir = " + property + " is not a folder");
      }
      return Path.of(property);
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("testdata/sat"))) {
        return dir.resolve("testdata");
      }
    }
    throw new IllegalStateException("no testdata/sat/ above " + Path.of("").toAbsolutePath() + ": set -Dtestdata.dir");
  }

  /** The repository's root: the folder holding testdata/. */
  public static Path repoRoot() {
    return testdata().getParent();
  }

  /** testdata/sat/: the SAT checkpoints, one run per folder. */
  public static Path sat() {
    return testdata().resolve("sat");
  }

  /** {@code relative} below testdata/sat/. */
  public static Path sat(String relative) {
    return sat().resolve(relative);
  }

  /** {@code relative} below testdata/expected/ (the expected outputs). */
  public static Path expected(String relative) {
    return testdata().resolve("expected").resolve(relative);
  }

  /** Copies the folder {@code from} with everything in it to {@code to}, creating its parents; returns {@code to}. */
  public static Path copyTree(Path from, Path to) throws IOException {
    List<Path> all;
    try (Stream<Path> walk = Files.walk(from)) {
      all = walk.toList();
    }
    for (Path p : all) {
      Path target = to.resolve(from.relativize(p).toString());
      if (Files.isDirectory(p)) {
        Files.createDirectories(target);
      } else {
        Files.copy(p, target);
      }
    }
    return to;
  }
}
