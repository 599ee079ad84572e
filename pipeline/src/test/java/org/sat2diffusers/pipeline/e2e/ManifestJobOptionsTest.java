package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * A manifest job converts as the command line does with the same options, the ones a manifest
 * could not set before included (a LoRA adapter export, NaN/infinity counts, sha256 digests,
 * unknown keys, a base pipeline); a job option next to {@code --manifest} is a usage error.
 */
class ManifestJobOptionsTest {
  private static final Path SOURCE = TestPaths.sat("cogvideox1.5-5b-i2v-lora");
  private static final Pattern TIMES = Pattern.compile("(\"[a-z_]+_at\": )\"[^\"]*\"");

  @TempDir Path work;

  @Test
  void aManifestJobWritesTheBytesTheCommandLineWrites() throws IOException {
    Path base = work.resolve("base");
    Files.createDirectories(base.resolve("tokenizer"));
    Files.writeString(base.resolve("tokenizer/spiece.model"), "tokenizer");
    Files.writeString(base.resolve("model_index.json"), "{\"tokenizer\": [\"transformers\", \"T5Tokenizer\"]}");
    CliRun.run("convert", "--source", SOURCE, "--output", work.resolve("cli"), "--lora-alpha", "1",
        "--lora-mode", "both", "--lora-fold-scale", "--check-finite", "--digest", "sha256", "--unknown-keys", "drop",
        "--base-pipeline", base, "--link").assertSucceeded().assertNoStackTrace();
    Files.writeString(work.resolve("jobs.yaml"), """
        - source: %s
          output: manifest
          lora_alpha: 1
          lora_mode: both
          lora_fold_scale: true
          check_finite: true
          digest: sha256
          unknown_keys: drop
          base_pipeline: base
          link: true
        """.formatted(SOURCE));
    CliRun.run("convert", "--manifest", work.resolve("jobs.yaml")).assertSucceeded().assertNoStackTrace();

    Map<String, String> cli = files(work.resolve("cli"));
    assertTrue(cli.containsKey("transformer/pytorch_lora_weights.safetensors"), cli.keySet().toString());
    assertTrue(cli.containsKey("tokenizer/spiece.model"), cli.keySet().toString());
    assertEquals(cli, files(work.resolve("manifest")));
    String report = Files.readString(work.resolve("manifest/conversion_report.json"));
    assertTrue(report.contains("\"tensor_sha256\"") && report.contains("\"non_finite\""), report);
  }

  @Test
  void aJobOptionBesideAManifestIsAUsageError() throws IOException {
    Files.writeString(work.resolve("jobs.yaml"), "- source: %s\n  output: out\n".formatted(SOURCE));
    CliRun run = CliRun.run("convert", "--manifest", work.resolve("jobs.yaml"), "--check-finite");
    assertEquals(2, run.exitCode(), run.err());
    assertTrue(run.err().contains("--check-finite is a field of each job in a --manifest (check_finite)"), run.err());
    assertFalse(Files.exists(work.resolve("out")));
  }

  /**
   * Every file below {@code folder} but the commit marker, by relative path: its sha256; the report's
   * text with its times left out.
   */
  private static Map<String, String> files(Path folder) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(folder)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String relative = folder.relativize(f).toString();
        if (relative.equals("conversion_report.json")) {
          out.put(relative, TIMES.matcher(Files.readString(f)).replaceAll("$1"));
        } else if (!relative.equals("_SUCCESS")) {
          out.put(relative, TestData.sha256(f));
        }
      }
    }
    return out;
  }
}
