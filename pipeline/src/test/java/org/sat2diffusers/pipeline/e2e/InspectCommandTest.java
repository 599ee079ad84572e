package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/** {@code inspect}: what a checkpoint or a safetensors file holds, from the headers alone. */
class InspectCommandTest {
  private static final Map<String, String> PREFIXES = Map.of(
      "model.diffusion_model.", "transformer",
      "first_stage_model.", "vae",
      "conditioner.embedders.0.transformer.", "text_encoder");

  @Test
  void aCheckpointIsListedPerComponentWithTheTensorsTorchSees() {
    CliRun run = CliRun.run("inspect", TestPaths.sat("cogvideox-2b-sft"));
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("state dict under: module"), run.out());

    JsonNode source = TestData.json(TestPaths.expected("source/cogvideox-2b-sft/1000/mp_rank_00_model_states.json"));
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (Iterator<String> keys = source.path("tensors").fieldNames(); keys.hasNext(); ) {
      String key = keys.next();
      assertTrue(run.out().contains(key), "inspect does not list " + key);
      PREFIXES.forEach((prefix, component) -> {
        if (key.startsWith(prefix)) {
          counts.merge(component, 1, Integer::sum);
        }
      });
    }
    counts.forEach((component, n) -> assertTrue(
        run.out().matches("(?s).*\\n\\s*" + component + "\\s+" + n + " tensors.*"),
        component + " should total " + n + " tensors:\n" + run.out()));
  }

  @Test
  void aSafetensorsFileIsListedWithItsTotals(@TempDir Path work) {
    Path out = work.resolve("out");
    assertEquals(0, CliRun.run("convert", "--source", TestPaths.sat("cogvideox1.5-5b-i2v-lora"), "--output", out).exitCode());
    JsonNode expected = TestData.json(TestPaths.expected("cogvideox1.5-5b-i2v-lora/300.alpha1.json")).path("transformer");
    CliRun run = CliRun.run("inspect", out.resolve("transformer/diffusion_pytorch_model.safetensors"));
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains(expected.size() + " tensors"), run.out());
    expected.fieldNames().forEachRemaining(name -> assertTrue(run.out().contains(name), "inspect does not list " + name));
  }
}
