package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.sat2diffusers.pipeline.storage.OutputLock;

/** Compares two converted folders file by file, byte for byte. */
final class OutputTrees {
  /** The only fields that may differ between two runs of one conversion. */
  private static final Pattern TIMESTAMPS = Pattern.compile("\"(planned_at|finished_at|committed_at)\": \"[^\"]*\"");
  private static final List<String> TIMESTAMPED = List.of("conversion_report.json", "_SUCCESS");

  private OutputTrees() {}

  /**
   * Same files with the same bytes; the report and the commit marker may differ only in their
   * timestamps. Also checks the folder holds shards, so two empty folders do not pass.
   */
  static void assertSameOutput(Path expected, Path actual) {
    assertSameOutput(expected, actual, List.of());
  }

  /**
   * As {@link #assertSameOutput(Path, Path)} for an output a killed run committed: the lock it held
   * stays until the next run takes it over (it is not part of the output; {@code verify} skips it).
   */
  static void assertSameOutputOfAKilledRun(Path expected, Path actual) {
    assertSameOutput(expected, actual, List.of(OutputLock.FILE));
  }

  private static void assertSameOutput(Path expected, Path actual, List<String> leftByTheRun) {
    List<String> expectedFiles = files(expected);
    List<String> actualFiles = files(actual).stream().filter(f -> !leftByTheRun.contains(f)).toList();
    assertEquals(expectedFiles, actualFiles, "files under " + actual + " vs " + expected);
    assertTrue(expectedFiles.stream().anyMatch(f -> f.endsWith(".safetensors")), "no shard under " + expected);
    assertTrue(expectedFiles.stream().anyMatch(f -> Path.of(f).getFileName().toString().equals("_SUCCESS")),
        "no commit marker under " + expected);
    for (String file : expectedFiles) {
      byte[] want = read(expected.resolve(file));
      byte[] got = read(actual.resolve(file));
      if (TIMESTAMPED.contains(Path.of(file).getFileName().toString())) {
        assertEquals(withoutTimestamps(want), withoutTimestamps(got), file + " differs beyond its timestamps");
      } else if (!Arrays.equals(want, got)) {
        fail(file + " differs: " + want.length + " bytes under " + expected + ", " + got.length + " under " + actual);
      }
    }
  }

  private static String withoutTimestamps(byte[] json) {
    return TIMESTAMPS.matcher(new String(json, StandardCharsets.UTF_8)).replaceAll("\"$1\": \"-\"");
  }

  private static List<String> files(Path root) {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
