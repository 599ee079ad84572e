package org.sat2diffusers.pipeline.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.stream.Stream;

/** The repository's testdata/ folder, JSON files and sha256 digests. */
final class TestData {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TestData() {}

  /** testdata/, from the {@code testdata.dir} property Surefire sets, else found above the working directory. */
  static Path root() {
    String property = System.getProperty("testdata.dir");
    if (property != null) {
      return Path.of(property);
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("testdata/expected"))) {
        return dir.resolve("testdata");
      }
    }
    throw new IllegalStateException("no testdata/ above " + Path.of("").toAbsolutePath());
  }

  static Path sat(String relative) {
    return root().resolve("sat").resolve(relative);
  }

  static Path expected(String relative) {
    return root().resolve("expected").resolve(relative);
  }

  /** Copies the folder {@code from} with everything in it to {@code to}; returns {@code to}. */
  static Path copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path file : files.toList()) {
        Files.copy(file, to.resolve(from.relativize(file).toString()));
      }
    }
    return to;
  }

  static JsonNode json(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + " as JSON", e);
    }
  }

  static JsonNode json(byte[] bytes) throws IOException {
    return JSON.readTree(bytes);
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String sha256(Path file) {
    try {
      return sha256(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException(file.toString(), e);
    }
  }
}
