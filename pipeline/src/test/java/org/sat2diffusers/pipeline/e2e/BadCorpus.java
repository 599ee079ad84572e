package org.sat2diffusers.pipeline.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.sat2diffusers.pipeline.testing.TestPaths;

/** The broken and hostile files of testdata/bad/ (made by its make_bad.py; MANIFEST.txt says what each is). */
final class BadCorpus {
  private BadCorpus() {}

  static Path folder() {
    return TestPaths.testdata().resolve("bad");
  }

  /** Every corpus file, sorted. */
  static List<Path> all() {
    return list(".pt", ".safetensors");
  }

  static List<Path> checkpoints() {
    return list(".pt");
  }

  static List<Path> safetensors() {
    return list(".safetensors");
  }

  private static List<Path> list(String... suffixes) {
    try (Stream<Path> files = Files.list(folder())) {
      return files.filter(p -> Stream.of(suffixes).anyMatch(p.getFileName().toString()::endsWith)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
