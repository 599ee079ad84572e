package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * {@code bin/sat2diffusers}: the first conversion records a class-data archive, the next maps it
 * (under {@code -Xshare:on}, which refuses to start without it), and both write the bytes the
 * in-process conversion writes.
 */
class LauncherIT {
  private static final Duration TIMEOUT = Duration.ofMinutes(3);

  @Test
  void firstConversionRecordsTheArchiveAndTheNextOneMapsIt(@TempDir Path work) throws Exception {
    Fixtures.Case fixture = Fixtures.cases().get(0);
    Path expected = work.resolve("in-process");
    InProcessCli.convert(fixture.args(), expected);
    Path cache = work.resolve("cache");

    assertEquals(0, launch(work, "first", fixture, cache, ""));
    List<Path> archives = archives(cache);
    assertEquals(1, archives.size(), "archives in " + cache + ": " + archives);
    assertTrue(Files.size(archives.get(0)) > 1 << 20, archives.get(0) + " is too small to hold the classes");

    assertEquals(0, launch(work, "second", fixture, cache, "-Xshare:on"));
    assertEquals(archives, archives(cache), "the second run made another archive");
    OutputTrees.assertSameOutput(expected, work.resolve("first"));
    OutputTrees.assertSameOutput(expected, work.resolve("second"));
  }

  @Test
  void otherCommandsRecordNothing(@TempDir Path work) throws Exception {
    Path cache = work.resolve("cache");
    List<String> command = List.of(launcher().toString(), "--version");
    try (ChildProcess run = ChildProcess.start("version", command, env(cache, ""), work)) {
      assertEquals(0, run.awaitExit(TIMEOUT), run.logTail());
      assertFalse(run.log().isBlank(), "no version printed");
    }
    assertEquals(List.of(), archives(cache));
  }

  private static int launch(Path work, String name, Fixtures.Case fixture, Path cache, String javaOpts)
      throws Exception {
    List<String> command = new ArrayList<>(List.of(launcher().toString(), "convert"));
    command.addAll(fixture.args());
    command.addAll(List.of("--output", work.resolve(name).toString()));
    try (ChildProcess run = ChildProcess.start(name, command, env(cache, javaOpts), work)) {
      int exit = run.awaitExit(TIMEOUT);
      assertEquals(0, exit, run.logTail());
      assertFalse(run.log().contains("[cds"), "the JVM complained about the archive: " + run.logTail());
      return exit;
    }
  }

  private static Map<String, String> env(Path cache, String javaOpts) {
    return Map.of(
        "SAT2DIFFUSERS_JAR", ExecutableJar.path().toString(),
        "SAT2DIFFUSERS_CACHE", cache.toString(),
        "JAVA", ChildProcess.java(),
        "JAVA_OPTS", javaOpts);
  }

  private static Path launcher() {
    return TestPaths.repoRoot().resolve("bin/sat2diffusers");
  }

  private static List<Path> archives(Path cache) throws IOException {
    if (!Files.isDirectory(cache)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(cache)) {
      return files.sorted().toList();
    }
  }
}
