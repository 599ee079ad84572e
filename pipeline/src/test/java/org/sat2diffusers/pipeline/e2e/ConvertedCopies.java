package org.sat2diffusers.pipeline.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.sat2diffusers.pipeline.testing.TestPaths;

/** Fresh copies of one clean conversion (the 2B fine-tune, VAE in shards), converted once per test JVM. */
final class ConvertedCopies {
  private static Path reference;

  private ConvertedCopies() {}

  /** A copy of the converted folder in {@code work}/converted, to damage at will. */
  static synchronized Path converted(Path work) throws IOException {
    if (reference == null) {
      Path out = Files.createTempDirectory("sat2diffusers-reference").resolve("out");
      CliRun.run("convert", "--source", TestPaths.sat("cogvideox-2b-sft"), "--output", out, "--max-shard-size", "200KB")
          .assertSucceeded();
      reference = out;
    }
    return TestPaths.copyTree(reference, work.resolve("converted"));
  }
}
