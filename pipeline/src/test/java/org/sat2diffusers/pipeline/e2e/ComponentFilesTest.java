package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 15, component files: a {@code .pt} holding only a VAE (the released {@code 3d-vae.pt}) or only
 * a transformer converts to that component's folder, and {@code --source transformer.pt --vae
 * 3d-vae.pt} to one pipeline folder; with {@code --base-pipeline} the folder is complete. The fixtures
 * (testdata/training/components) are the 2B fine-tune's iteration 1000 split into its components, so
 * the tensors must be those of testdata/expected/cogvideox-2b-sft/1000.json, byte for byte.
 */
class ComponentFilesTest {
  private static final Path VAE = TestPaths.testdata().resolve("training/components/3d-vae.pt");
  private static final Path TRANSFORMER = TestPaths.testdata().resolve("training/components/transformer.pt");
  private static final Path EXPECTED = TestPaths.expected("cogvideox-2b-sft/1000.json");
  private static final Set<String> PIPELINE = Set.of("scheduler", "tokenizer", "transformer", "vae", "text_encoder");

  @TempDir static Path work;
  /** The 2B fine-tune's own conversion plus a tokenizer: the base model of the component files. */
  private static Path base;

  @BeforeAll
  static void makeTheBase() throws IOException {
    base = work.resolve("base");
    CliRun.run("convert", "--source", TestPaths.sat("cogvideox-2b-sft"), "--output", base).assertSucceeded();
    Files.createDirectories(base.resolve("tokenizer"));
    Files.write(base.resolve("tokenizer/spiece.model"), new byte[] {1, 2, 3, 4});
    ObjectNode index = (ObjectNode) TestData.json(base.resolve("model_index.json"));
    index.putArray("tokenizer").add("transformers").add("T5Tokenizer");
    Files.writeString(base.resolve("model_index.json"), new ObjectMapper().writeValueAsString(index));
  }

  @Test
  void aVaeFileAloneConvertsToTheVaeFolder() throws IOException {
    Path out = work.resolve("vae-alone");
    CliRun.run("convert", "--source", VAE, "--output", out, "--model", "cogvideox-2b").assertSucceeded()
        .assertNoStackTrace();

    assertEquals(Set.of("vae", "conversion_report.json", "_SUCCESS"), OutputFolders.entries(out),
        "the VAE's folder only: model_index.json and scheduler/ are the base model's");
    assertEquals(List.of(), ExpectedTensors.mismatches(out, expected("vae")));
    assertArrayEquals(Files.readAllBytes(base.resolve("vae/config.json")), Files.readAllBytes(out.resolve("vae/config.json")),
        "the VAE's config is the one the whole fine-tune's conversion writes");
    JsonNode report = TestData.json(out.resolve("conversion_report.json"));
    assertEquals("--model cogvideox-2b", report.path("model").path("reason").asText());
    CliRun.run("verify", out).assertSucceeded();
  }

  @Test
  void aVaeFileAloneWithoutAFamilyAsksForOneAndWritesNothing() throws IOException {
    Path out = work.resolve("vae-no-family");
    CliRun run = CliRun.run("convert", "--source", VAE, "--output", out).assertNoStackTrace();

    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), run.err());
    assertTrue(run.err().contains(VAE + ": no transformer, only vae") && run.err().contains("pass --model"), run.err());
    assertFalse(run.err().contains("patch_embed"), "the old message, about a tensor a VAE never has:\n" + run.err());
    assertEquals(List.of(), OutputFolders.committedFiles(out));
  }

  @Test
  void aVaeFileWithTheBasePipelineIsACompletePipeline() throws IOException {
    Path out = work.resolve("vae-on-base");
    CliRun.run("convert", "--source", VAE, "--output", out, "--model", "cogvideox-2b", "--base-pipeline", base)
        .assertSucceeded().assertNoStackTrace();

    assertEquals(PIPELINE, namedFolders(out));
    assertEquals(List.of(), ExpectedTensors.mismatches(out, expected("vae")));
    for (String file : new String[] {"transformer/diffusion_pytorch_model.safetensors", "text_encoder/config.json",
        "tokenizer/spiece.model", "scheduler/scheduler_config.json"}) {
      assertArrayEquals(Files.readAllBytes(base.resolve(file)), Files.readAllBytes(out.resolve(file)), file);
    }
  }

  @Test
  void aTransformerFileAloneConvertsToTheTransformerFolder() throws IOException {
    Path out = work.resolve("transformer-alone");
    CliRun.run("convert", "--source", TRANSFORMER, "--output", out).assertSucceeded().assertNoStackTrace();

    assertEquals(List.of(), ExpectedTensors.mismatches(out, expected("transformer")));
    assertEquals(Set.of("scheduler", "transformer"), namedFolders(out),
        "as any checkpoint holding only a transformer: model_index.json names it and the scheduler");

    Path complete = work.resolve("transformer-on-base");
    CliRun.run("convert", "--source", TRANSFORMER, "--output", complete, "--base-pipeline", base).assertSucceeded();
    assertEquals(PIPELINE, namedFolders(complete));
    assertEquals(List.of(), ExpectedTensors.mismatches(complete, expected("transformer")));
    assertArrayEquals(Files.readAllBytes(base.resolve("vae/diffusion_pytorch_model.safetensors")),
        Files.readAllBytes(complete.resolve("vae/diffusion_pytorch_model.safetensors")));
  }

  @Test
  void aTransformerAndASeparateVaeMakeOnePipelineFolder() throws IOException {
    Path out = work.resolve("transformer-and-vae");
    CliRun.run("convert", "--source", TRANSFORMER, "--vae", VAE, "--output", out).assertSucceeded().assertNoStackTrace();

    assertEquals(List.of(), ExpectedTensors.mismatches(out, expected("transformer", "vae")));
    assertEquals(Set.of("scheduler", "transformer", "vae"), namedFolders(out));
    JsonNode marker = TestData.json(out.resolve("_SUCCESS"));
    assertEquals(VAE.toString(), marker.path("vae").asText());
    List<String> sources = new ArrayList<>();
    marker.path("sources").forEach(s -> sources.add(s.path("path").asText()));
    assertEquals(List.of(TRANSFORMER.toString(), VAE.toString()), sources, "both files are fingerprinted");
    CliRun.run("verify", out).assertSucceeded();

    Path complete = work.resolve("transformer-and-vae-on-base");
    CliRun.run("convert", "--source", TRANSFORMER, "--vae", VAE, "--output", complete, "--base-pipeline", base)
        .assertSucceeded();
    assertEquals(PIPELINE, namedFolders(complete));
    assertEquals(List.of(), ExpectedTensors.mismatches(complete, expected("transformer", "vae")));
    assertArrayEquals(Files.readAllBytes(base.resolve("text_encoder/config.json")),
        Files.readAllBytes(complete.resolve("text_encoder/config.json")));
  }

  @Test
  void aManifestJobTakesTheVaeAsAField() throws IOException {
    Path dir = Files.createDirectories(work.resolve("manifest"));
    Files.copy(VAE, dir.resolve("3d-vae.pt"));
    Files.writeString(dir.resolve("jobs.yaml"), "- source: " + TRANSFORMER + "\n  vae: 3d-vae.pt\n  output: out\n");
    CliRun.run("convert", "--manifest", dir.resolve("jobs.yaml")).assertSucceeded().assertNoStackTrace();

    assertEquals(List.of(), ExpectedTensors.mismatches(dir.resolve("out"), expected("transformer", "vae")));
  }

  @Test
  void aChangedVaeFileIsConvertedAgain() throws IOException {
    Path dir = Files.createDirectories(work.resolve("up-to-date"));
    Path vae = Files.copy(VAE, dir.resolve("3d-vae.pt"));
    Object[] args = {"convert", "--source", TRANSFORMER, "--vae", vae, "--output", dir.resolve("out")};
    assertTrue(CliRun.run(args).assertSucceeded().out().contains("1 of 1 checkpoint(s) converted"));
    assertTrue(CliRun.run(args).assertSucceeded().out().contains("up to date"));

    Files.setLastModifiedTime(vae, FileTime.fromMillis(Files.getLastModifiedTime(vae).toMillis() - 60_000));
    CliRun again = CliRun.run(args).assertSucceeded();
    assertTrue(again.out().contains("1 of 1 checkpoint(s) converted"), "the --vae file changed:\n" + again.out());
  }

  @Test
  void anOutputHoldingTheVaeFileIsRefused() throws IOException {
    Path out = Files.createDirectories(work.resolve("holds-its-vae"));
    Path vae = Files.copy(VAE, out.resolve("3d-vae.pt"));
    CliRun run = CliRun.run("convert", "--source", TRANSFORMER, "--vae", vae, "--output", out).assertNoStackTrace();

    assertEquals(ExitCodes.USAGE, run.exitCode(), run.err());
    assertTrue(run.err().contains("output folder " + out + " holds --vae " + vae), run.err());
    assertEquals(Set.of("3d-vae.pt"), OutputFolders.entries(out));
  }

  @Test
  void theDryRunPlansBothFilesAndAcceptsWhatTheConversionAccepts() throws IOException {
    Path out = work.resolve("dry");
    Path plan = work.resolve("dry.plan.json");
    CliRun.run("convert", "--source", TRANSFORMER, "--vae", VAE, "--output", out, "--dry-run", "--plan-json", plan)
        .assertSucceeded();
    JsonNode files = TestData.json(plan).path("checkpoints").path(0).path("plan").path("source_files");
    assertEquals(List.of(TRANSFORMER.toString(), VAE.toString()), List.of(files.path(0).path("path").asText(),
        files.path(1).path("path").asText()));
    assertEquals(242, files.path(1).path("tensors").asInt());
    assertFalse(Files.exists(out), "a dry run writes nothing");

    Path notAVae = Files.copy(TRANSFORMER, work.resolve("dry-not-a-vae.pt"));
    CliRun refused = CliRun.run("convert", "--source", TRANSFORMER, "--vae", notAVae, "--output", out, "--dry-run");
    assertEquals(ExitCodes.INVALID_INPUT, refused.exitCode(), refused.err());
    String printed = refused.out() + refused.err(); // the plan printer lists a checkpoint's error with its plan
    assertTrue(printed.contains("--vae " + notAVae + " holds no VAE"), printed);
  }

  @Test
  void inspectListsEachComponentFile() {
    CliRun vae = CliRun.run("inspect", VAE).assertSucceeded();
    assertTrue(vae.out().matches("(?s).*\\n\\s*vae\\s+242 tensors.*"), vae.out());
    CliRun transformer = CliRun.run("inspect", TRANSFORMER).assertSucceeded();
    assertTrue(transformer.out().matches("(?s).*\\n\\s*transformer\\s+53 tensors.*"), transformer.out());
  }

  /** Each way the two files do not make one pipeline: one clear error naming the file, exit code 3, nothing committed. */
  @Test
  void filesThatDoNotMakeOnePipelineAreRefused() throws IOException {
    Path copyOfTransformer = Files.copy(TRANSFORMER, work.resolve("other-transformer.pt"));
    Path copyOfVae = Files.copy(VAE, work.resolve("other-vae.pt"));
    assertRefused("no VAE in --vae", List.of("--source", TRANSFORMER, "--vae", copyOfTransformer),
        "--vae " + copyOfTransformer + " holds no VAE: 53 of its tensors are not a VAE's");
    assertRefused("no transformer in the source", List.of("--source", VAE, "--vae", copyOfVae),
        VAE + " holds no transformer (only vae): --vae " + copyOfVae);
    assertRefused("a VAE in both", List.of("--source", TestPaths.sat("cogvideox-2b-sft"), "--vae", VAE),
        "holds a VAE of its own (first_stage_model.* or a vae/ file) and --vae " + VAE + " another");
    assertRefused("the transformer asked of a VAE file",
        List.of("--source", VAE, "--model", "cogvideox-2b", "--components", "transformer"),
        VAE + ": --components transformer asks for a transformer, but the checkpoint holds none (it holds vae)");
    assertRefused("a missing --vae", List.of("--source", TRANSFORMER, "--vae", work.resolve("missing.pt")),
        "--vae " + work.resolve("missing.pt") + " does not exist");
  }

  private static void assertRefused(String what, List<Object> options, String message) throws IOException {
    Path out = work.resolve("refused");
    List<Object> args = new ArrayList<>(List.of("convert", "--output", out));
    args.addAll(options);
    CliRun run = CliRun.run(args.toArray()).assertNoStackTrace();
    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), what + ":\n" + run.err());
    assertTrue(run.err().contains(message), what + ": expected «" + message + "» in\n" + run.err());
    assertEquals(List.of(), OutputFolders.committedFiles(out), what);
  }

  /** The folders model_index.json names with a class, checked to be exactly the folders present. */
  private static Set<String> namedFolders(Path out) throws IOException {
    JsonNode index = TestData.json(out.resolve("model_index.json"));
    Set<String> named = new TreeSet<>();
    index.fieldNames().forEachRemaining(name -> {
      if (!name.startsWith("_") && !index.path(name).path(1).isNull()) {
        named.add(name);
      }
    });
    Set<String> folders = new TreeSet<>(OutputFolders.entries(out));
    folders.removeIf(name -> !Files.isDirectory(out.resolve(name)) || name.startsWith("."));
    assertEquals(folders, named, "model_index.json names exactly the folders of " + out);
    return named;
  }

  /** The 2B fine-tune's expected tensors, cut down to {@code components}. */
  private static Path expected(String... components) throws IOException {
    ObjectNode manifest = (ObjectNode) TestData.json(EXPECTED);
    manifest.retain(components);
    Path file = work.resolve(String.join("+", components) + ".expected.json");
    new ObjectMapper().writeValue(file.toFile(), manifest);
    return file;
  }
}
