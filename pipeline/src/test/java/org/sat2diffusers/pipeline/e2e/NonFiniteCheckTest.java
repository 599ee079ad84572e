package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.pipeline.cli.ExitCodes;

/** --check-finite counts NaN and infinity per written tensor; --fail-on-nonfinite refuses to commit them. */
class NonFiniteCheckTest {
  private static final String SOURCE_KEY = "model.diffusion_model.transformer.layers.0.attention.dense.weight";
  private static final String OUTPUT_KEY = "transformer_blocks.0.attn1.to_out.0.weight";

  @TempDir Path work;
  private Path run;

  /** A copy of the 2B fine-tune whose attention output weight holds two NaNs and one infinity. */
  @BeforeEach
  void runWithNonFiniteValues() throws IOException {
    run = TestPaths.copyTree(TestPaths.sat("cogvideox-2b-sft"), Files.createDirectories(work.resolve("runs")).resolve("sft"));
    Path pt = run.resolve("1000/mp_rank_00_model_states.pt");
    TensorRecord dense;
    try (RandomAccessInput in = RandomAccessInputs.open(pt.toString())) {
      dense = new TorchCheckpointReader().index(in).tensors().stream()
          .filter(t -> t.key().equals(SOURCE_KEY)).findFirst().orElseThrow();
    }
    try (RandomAccessFile f = new RandomAccessFile(pt.toFile(), "rw")) {
      f.seek(dense.fileOffset());
      f.write(new byte[] {0x00, 0x7e, 0x01, 0x7c, 0x00, 0x7c}); // fp16 little-endian: NaN, NaN, +inf
    }
  }

  @Test
  void countsAreInTheReport() {
    Path out = work.resolve("out");
    CliRun result = CliRun.run("convert", "--source", run, "--output", out, "--check-finite");
    assertEquals(ExitCodes.OK, result.exitCode(), result.err());
    JsonNode report = TestData.json(out.resolve("conversion_report.json"));
    assertTrue(report.path("finite_check").asBoolean(), report.toString());
    JsonNode transformer = null;
    for (JsonNode file : report.path("written_files")) {
      if (file.path("path").asText().startsWith("transformer/")) {
        transformer = file;
      }
    }
    JsonNode counts = transformer.path("non_finite");
    assertEquals(1, counts.size(), counts.toString());
    assertEquals(2, counts.path(OUTPUT_KEY).path("nan").asLong(), counts.toString());
    assertEquals(1, counts.path(OUTPUT_KEY).path("inf").asLong(), counts.toString());
  }

  @Test
  void failOnNonfiniteCommitsNothingAndNamesTheTensor() {
    Path out = work.resolve("out");
    CliRun result = CliRun.run("convert", "--source", run, "--output", out, "--fail-on-nonfinite");
    assertEquals(ExitCodes.FAILED, result.exitCode(), result.err());
    assertTrue(result.err().contains(OUTPUT_KEY) && result.err().contains("2,1"), result.err());
    assertFalse(Files.exists(out.resolve("_SUCCESS")));
    assertFalse(Files.exists(out.resolve("transformer/diffusion_pytorch_model.safetensors")));
  }
}
