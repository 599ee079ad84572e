package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/** The model_config.json SAT saves beside a run names its family when the tensors cannot. */
class RunModelConfigTest {
  @TempDir Path work;

  @Test
  void theRunsVariantDecidesInAutoMode() throws IOException {
    Path out = work.resolve("lora");
    CliRun run = CliRun.run("convert", "--source", TestPaths.sat("cogvideox-5b-lora"), "--output", out);
    assertEquals(0, run.exitCode(), run.err());
    assertEquals(List.of(), ExpectedTensors.mismatches(out, TestPaths.expected("cogvideox-5b-lora/200.alpha1.json")));
    JsonNode model = TestData.json(out.resolve("conversion_report.json")).path("model");
    assertEquals("cogvideox-5b", model.path("family").asText());
    assertTrue(model.path("reason").asText().contains("model_config.json"), model.toString());
  }

  @Test
  void aVariantTheTensorsContradictIsRefused() throws IOException {
    Path run = TestPaths.copyTree(TestPaths.sat("cogvideox1.5-5b-i2v-lora"), work.resolve("run"));
    Files.writeString(run.resolve("model_config.json"), "{\"variant\": \"cogvideox-2b\"}");
    CliRun result = CliRun.run("convert", "--source", run, "--output", work.resolve("out"));
    assertEquals(3, result.exitCode(), result.err());
    assertTrue(result.err().contains("cogvideox-2b"), result.err());
  }
}
