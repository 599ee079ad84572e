package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.pipeline.testing.TestPaths;

/** Issue 8: every header and the report say what the output was made from, and nothing about when. */
class ProvenanceTest {
  private static final String SHARD = "transformer/diffusion_pytorch_model.safetensors";

  @TempDir Path tmp;

  @Test
  void headersAndReportRecordSourceFingerprintIterationLoraAndOptions() throws Exception {
    FixtureConversion c = FixtureConversion.LORA_ALPHA4;
    Path out = tmp.resolve("out");
    CliRun.run(c.arguments(out)).assertSucceeded();
    JsonNode header = TestData.json(metadata(out.resolve(SHARD)).getBytes());
    Path pt = TestPaths.sat("cogvideox-5b-lora/200/mp_rank_00_model_states.pt");
    assertEquals(TestPaths.sat(c.source).toString(), header.get("source").asText());
    assertEquals("200", header.get("iteration").asText());
    assertEquals(pt.toString(), header.path("source_files").path(0).path("path").asText());
    assertEquals(Files.size(pt), header.path("source_files").path(0).path("size").asLong());
    assertEquals(Files.getLastModifiedTime(pt).toMillis(), header.path("source_files").path(0).path("last_modified_ms").asLong());
    assertFalse(header.get("converter_version").asText().isEmpty());
    assertEquals("merge", header.path("options").path("lora_mode").asText());
    assertEquals(4.0, header.path("lora").path("alpha").asDouble());
    assertEquals("[4]", header.path("lora").path("ranks").toString());
    ObjectNode reported = TestData.json(out.resolve("conversion_report.json")).get("provenance").deepCopy();
    JsonNode blas = reported.remove("lora_merge_blas"); // the report also says which BLAS merged (not the header: that is machine-specific)
    assertTrue(blas != null && blas.asText().matches("(\\w+BLAS|Java) \\(.+\\)"), "lora_merge_blas: " + blas);
    assertEquals(header, reported);
    assertFalse(header.toString().contains("_at\""), "no timestamps in a header: " + header);
  }

  @Test
  void shardBytesDoNotDependOnWhenTheyWereWritten() throws Exception {
    FixtureConversion c = FixtureConversion.LORA_ALPHA1;
    CliRun.run(c.arguments(tmp.resolve("a"))).assertSucceeded();
    Thread.sleep(5);
    CliRun.run(c.arguments(tmp.resolve("b"))).assertSucceeded();
    assertArrayEquals(Files.readAllBytes(tmp.resolve("a").resolve(SHARD)), Files.readAllBytes(tmp.resolve("b").resolve(SHARD)));
  }

  private static String metadata(Path file) throws Exception {
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      return SafetensorsFile.open(in).metadata().get("sat2diffusers");
    }
  }
}
