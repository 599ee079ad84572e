package org.sat2diffusers.pipeline.runner;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The repository's fixtures, and the conversions the runner tests repeat on every runner. */
final class Fixtures {
  private Fixtures() {}

  /** A fixture conversion: a name for folders and messages, and the convert arguments besides --output. */
  record Case(String name, List<String> args) {
    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * Every fixture run below testdata/sat, every iteration, in one run (issue 4's acceptance): five
   * checkpoints of four families, full fine-tune, LoRA, released layout, with and without T5.
   */
  static List<Case> cases() {
    Path sat = testdata().resolve("sat");
    return List.of(new Case("all-fixture-runs", List.of("--source-root", sat.toString(), "--iterations", "all")));
  }

  /** testdata/: the {@code testdata.dir} property Surefire and Failsafe set, else found walking up. */
  static Path testdata() {
    String property = System.getProperty("testdata.dir");
    if (property != null && Files.isDirectory(Path.of(property))) {
      return Path.of(property);
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("testdata/expected"))) {
        return dir.resolve("testdata");
      }
    }
    throw new IllegalStateException("no testdata/ folder above " + Path.of("").toAbsolutePath());
  }

  /** A path the build passes to the integration tests as a system property. */
  static Path buildPath(String property) {
    String value = System.getProperty(property);
    if (value == null || !Files.exists(Path.of(value))) {
      throw new IllegalStateException(
          "system property " + property + " = " + value + " names nothing: run this test with 'mvn verify'");
    }
    return Path.of(value);
  }
}
