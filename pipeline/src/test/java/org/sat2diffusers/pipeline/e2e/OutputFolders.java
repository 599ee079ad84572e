package org.sat2diffusers.pipeline.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/** What a run left in an output folder. */
final class OutputFolders {
  private static final String STAGING = ".sat2diffusers-staging";

  private OutputFolders() {}

  /** The names of the folder's entries; empty when it does not exist. */
  static Set<String> entries(Path folder) throws IOException {
    if (!Files.isDirectory(folder)) {
      return Set.of();
    }
    try (Stream<Path> entries = Files.list(folder)) {
      return new TreeSet<>(entries.map(p -> p.getFileName().toString()).toList());
    }
  }

  /** The {@code committed_at} of the folder's {@code _SUCCESS} marker. */
  static String committedAt(Path output) {
    String at = TestData.json(output.resolve("_SUCCESS")).path("committed_at").asText();
    if (at.isEmpty()) {
      throw new AssertionError(output.resolve("_SUCCESS") + " has no committed_at");
    }
    return at;
  }

  /**
   * The files under {@code output} that would make it look converted: {@code _SUCCESS} and weight
   * files outside the staging folder (where a failed run may leave its shards).
   */
  static List<String> committedFiles(Path output) throws IOException {
    if (!Files.exists(output)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(output)) {
      return files.map(p -> output.relativize(p).toString())
          .filter(p -> !p.startsWith(STAGING + "/"))
          .filter(p -> p.endsWith("_SUCCESS") || p.endsWith(".safetensors")).sorted().toList();
    }
  }
}
