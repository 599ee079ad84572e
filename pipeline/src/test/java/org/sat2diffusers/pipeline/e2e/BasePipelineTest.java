package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 8, {@code --base-pipeline}: the components a conversion does not write come from a Diffusers
 * folder of the base model (copied, or linked with {@code --link}), and model_index.json names
 * exactly the component folders the output holds. The base here is the 2B fixture's own conversion
 * plus a tokenizer/ of dummy files.
 */
class BasePipelineTest {
  private static final Path SOURCE = TestPaths.sat("cogvideox-2b-sft");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path work;
  private static Path base;

  @BeforeAll
  static void makeTheBase() throws IOException {
    base = work.resolve("base");
    CliRun.run("convert", "--source", SOURCE, "--output", base).assertSucceeded();
    Files.createDirectories(base.resolve("tokenizer"));
    Files.writeString(base.resolve("tokenizer/tokenizer_config.json"), "{\"model_max_length\": 226}\n");
    Files.write(base.resolve("tokenizer/spiece.model"), new byte[] {1, 2, 3, 4});
    ObjectNode index = (ObjectNode) TestData.json(base.resolve("model_index.json"));
    index.putArray("tokenizer").add("transformers").add("T5Tokenizer");
    Files.writeString(base.resolve("model_index.json"), JSON.writeValueAsString(index));
    Files.writeString(base.resolve("scheduler/scheduler_config.json"), "{\"_class_name\": \"CogVideoXDDIMScheduler\"}\n");
  }

  @Test
  void aTransformerOnlyConversionTakesTheRestFromTheBase() throws IOException {
    Path out = work.resolve("transformer-only");
    CliRun.run("convert", "--source", SOURCE, "--output", out, "--components", "transformer", "--base-pipeline", base)
        .assertSucceeded().assertNoStackTrace();
    JsonNode index = assertIndexNamesExactlyTheFolders(out);
    assertEquals(Set.of("scheduler", "tokenizer", "transformer", "vae", "text_encoder"), named(index));
    assertEquals("T5Tokenizer", index.path("tokenizer").path(1).asText());
    for (String file : new String[] {"vae/diffusion_pytorch_model.safetensors", "text_encoder/config.json",
        "tokenizer/spiece.model", "scheduler/scheduler_config.json"}) {
      assertArrayEquals(Files.readAllBytes(base.resolve(file)), Files.readAllBytes(out.resolve(file)), file);
      assertFalse(Files.isSameFile(base.resolve(file), out.resolve(file)), file + " is a copy without --link");
    }
    assertEquals(
        ComponentWeights.read(base.resolve("transformer"), "diffusion_pytorch_model").tensors().keySet(),
        ComponentWeights.read(out.resolve("transformer"), "diffusion_pytorch_model").tensors().keySet());
    JsonNode report = TestData.json(out.resolve("conversion_report.json")).path("base_pipeline");
    assertEquals(base.toString(), report.path("path").asText());
    assertEquals(Set.of("scheduler", "tokenizer", "vae", "text_encoder"), texts(report.path("components")));
  }

  @Test
  void componentsTheBaseLacksAreNotNamed() throws IOException {
    Path partialBase = TestPaths.copyTree(base, work.resolve("base-without-t5"));
    try (Stream<Path> files = Files.walk(partialBase.resolve("text_encoder"))) {
      for (Path f : files.sorted((a, b) -> b.compareTo(a)).toList()) {
        Files.delete(f);
      }
    }
    Path out = work.resolve("without-t5");
    CliRun.run("convert", "--source", SOURCE, "--output", out, "--components", "transformer,vae",
        "--base-pipeline", partialBase).assertSucceeded();
    JsonNode index = assertIndexNamesExactlyTheFolders(out);
    assertEquals(Set.of("scheduler", "tokenizer", "transformer", "vae"), named(index));
    assertTrue(index.path("text_encoder").path(0).isNull(), index.toString());
  }

  @Test
  void linkSharesTheBaseFiles() throws IOException {
    Path out = work.resolve("linked");
    CliRun.run("convert", "--source", SOURCE, "--output", out, "--components", "transformer", "--base-pipeline", base,
        "--link").assertSucceeded();
    assertIndexNamesExactlyTheFolders(out);
    for (String file : new String[] {"vae/diffusion_pytorch_model.safetensors", "tokenizer/spiece.model"}) {
      assertTrue(Files.isSameFile(base.resolve(file), out.resolve(file)), file + " is linked to the base's");
    }
    assertEquals(2, (int) Files.getAttribute(out.resolve("tokenizer/spiece.model"), "unix:nlink"),
        "a hard link where the filesystem allows");
    Path again = work.resolve("linked");
    CliRun.run("convert", "--source", SOURCE, "--output", again, "--components", "transformer",
        "--base-pipeline", base, "--link", "--overwrite").assertSucceeded();
    assertArrayEquals(new byte[] {1, 2, 3, 4}, Files.readAllBytes(base.resolve("tokenizer/spiece.model")),
        "re-converting over linked files leaves the base intact");
  }

  @Test
  void aFullConversionTakesTokenizerAndSchedulerFromTheBase() throws IOException {
    Path out = work.resolve("full");
    CliRun.run("convert", "--source", SOURCE, "--output", out, "--base-pipeline", base).assertSucceeded();
    JsonNode index = assertIndexNamesExactlyTheFolders(out);
    assertEquals(Set.of("scheduler", "tokenizer", "transformer", "vae", "text_encoder"), named(index));
    assertArrayEquals(Files.readAllBytes(base.resolve("scheduler/scheduler_config.json")),
        Files.readAllBytes(out.resolve("scheduler/scheduler_config.json")));
  }

  @Test
  void aBaseOfAnotherPipelineClassIsRefused() throws IOException {
    Path i2v = TestPaths.copyTree(base, work.resolve("base-i2v"));
    ObjectNode index = (ObjectNode) TestData.json(i2v.resolve("model_index.json"));
    index.put("_class_name", "CogVideoXImageToVideoPipeline");
    Files.writeString(i2v.resolve("model_index.json"), JSON.writeValueAsString(index));
    CliRun result = CliRun.run("convert", "--source", SOURCE, "--output", work.resolve("mismatch"),
        "--base-pipeline", i2v).assertNoStackTrace();
    assertNotEquals(0, result.exitCode());
    assertTrue(result.err().contains("is a CogVideoXImageToVideoPipeline"), result.err());
  }

  @Test
  void linkWithoutABaseIsAUsageError() {
    CliRun result = CliRun.run("convert", "--source", SOURCE, "--output", work.resolve("x"), "--link");
    assertEquals(2, result.exitCode(), result.err());
    assertTrue(result.err().contains("--link needs --base-pipeline"), result.err());
  }

  /** Every component model_index.json names with a class is a non-empty folder, and every folder is named. */
  private static JsonNode assertIndexNamesExactlyTheFolders(Path out) throws IOException {
    JsonNode index = TestData.json(out.resolve("model_index.json"));
    Set<String> folders = new TreeSet<>();
    try (Stream<Path> entries = Files.list(out)) {
      entries.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
          .forEach(folders::add);
    }
    assertEquals(folders, named(index), "model_index.json names exactly the folders present");
    for (String folder : folders) {
      try (Stream<Path> files = Files.list(out.resolve(folder))) {
        assertTrue(files.findAny().isPresent(), folder + " is empty");
      }
    }
    return index;
  }

  private static Set<String> named(JsonNode index) {
    Set<String> named = new TreeSet<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = index.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getKey().startsWith("_") && e.getValue().isArray() && !e.getValue().path(1).isNull()) {
        named.add(e.getKey());
      }
    }
    return named;
  }

  private static Set<String> texts(JsonNode array) {
    Set<String> out = new TreeSet<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
