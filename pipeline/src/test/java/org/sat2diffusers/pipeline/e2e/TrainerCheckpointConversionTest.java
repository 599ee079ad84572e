package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.sat2diffusers.pipeline.e2e.ComponentWeights.WrittenTensor;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 15, trainer checkpoints: a Diffusers-based trainer's {@code checkpoint-<step>/} (accelerate +
 * DeepSpeed ZeRO-2, plain DDP's model.safetensors) and CogKit's torch.distributed.checkpoint folder
 * convert to a Diffusers transformer holding exactly the tensors they were saved from (names kept
 * but for the DDP wrapper's {@code module.} and CogKit's {@code app.model.}), through the command line
 * with its report, marker and verify; under {@code --source-root} their steps are found, and
 * {@code --iterations} picks steps. Expectations: testdata/training/expected (made by torch and
 * DeepSpeed's zero_to_fp32.py, see testdata/training/README.md).
 */
class TrainerCheckpointConversionTest {
  static final Path TRAINING = TestPaths.testdata().resolve("training");
  private static final Path EXPECTED = TRAINING.resolve("expected");

  @TempDir Path work;

  @Test
  void deepSpeedStepConvertsToItsSixteenBitModule() throws IOException {
    Path out = convert(TRAINING.resolve("trainer/cogvideox-t2v-sft-zero2/checkpoint-2"));
    assertMatches(out, EXPECTED.resolve("trainer/cogvideox-t2v-sft-zero2/checkpoint-2.module.json"), "");
    JsonNode config = TestData.json(out.resolve("transformer/config.json"));
    assertEquals("CogVideoXTransformer3DModel", config.path("_class_name").asText(), config.toString());
    assertEquals(2, config.path("num_layers").asInt(), config.toString());
    CliRun.run("verify", out).assertSucceeded();
  }

  @Test
  void deepSpeedStepWithFp32MastersGivesWhatZeroToFp32Gives() throws IOException {
    Path out = convert(TRAINING.resolve("trainer/cogvideox-t2v-sft-zero2/checkpoint-4"), "--weights", "fp32-master");
    assertMatches(out, EXPECTED.resolve("trainer/cogvideox-t2v-sft-zero2/checkpoint-4.zero_to_fp32.json"), "");
    Path bf16 = convert(TRAINING.resolve("trainer/cogvideox-t2v-sft-zero2/checkpoint-4"), "--weights", "fp32-master",
        "--dtype", "bf16");
    assertMatches(bf16, EXPECTED.resolve("trainer/cogvideox-t2v-sft-zero2/checkpoint-4.zero_to_fp32.bf16.json"), "");
  }

  @Test
  void ddpStepConvertsItsModelSafetensorsWithoutTheWrapperPrefix() throws IOException {
    Path out = convert(TRAINING.resolve("trainer/cogvideox-t2v-sft-ddp/checkpoint-3"));
    assertMatches(out, EXPECTED.resolve("trainer/cogvideox-t2v-sft-ddp/checkpoint-3.model.json"), "module.");
    JsonNode report = TestData.json(out.resolve("conversion_report.json"));
    assertEquals("diffusers_transformer", report.path("source_files").get(0).path("key_names").asText(), report.toString());
    CliRun.run("verify", out).assertSucceeded();
  }

  @Test
  void ddpStepSavedAsPytorchModelBinConvertsTheSame() throws IOException {
    Path out = convert(TRAINING.resolve("trainer/cogvideox-t2v-sft-ddp-bin/checkpoint-3"));
    assertMatches(out, EXPECTED.resolve("trainer/cogvideox-t2v-sft-ddp/checkpoint-3.model.json"), "module.");
    CliRun.run("verify", out).assertSucceeded();
  }

  @Test
  void loraRunsDeepSpeedStepMergesAsItsDeepSpeedSaveGivenDirectly() throws IOException {
    Path step = TRAINING.resolve("trainer/cogvideox-t2v-lora-zero2/checkpoint-3");
    Path viaStep = convert(step);
    Path direct = convert(step.resolve("pytorch_model"));
    Map<String, WrittenTensor> merged = ComponentWeights.read(viaStep.resolve("transformer"), "diffusion_pytorch_model").tensors();
    Map<String, WrittenTensor> expected = ComponentWeights.read(direct.resolve("transformer"), "diffusion_pytorch_model").tensors();
    assertEquals(expected.keySet(), merged.keySet());
    assertTrue(merged.keySet().stream().noneMatch(k -> k.contains("lora") || k.contains("base_layer")), merged.keySet().toString());
    expected.forEach((key, t) -> assertTrue(java.util.Arrays.equals(t.bytes(), merged.get(key).bytes()), key));
    JsonNode report = TestData.json(viaStep.resolve("conversion_report.json"));
    assertTrue(report.toString().contains("merged at scale 1"), report.path("warnings").toString());
    CliRun.run("verify", viaStep).assertSucceeded();
  }

  @Test
  void cogKitDcpFolderConvertsItsModelTensors() throws IOException {
    Path out = convert(TRAINING.resolve("dcp/cogkit-t2v-sft/checkpoint-3"));
    assertMatches(out, EXPECTED.resolve("dcp/cogkit-t2v-sft/checkpoint-3.json"), "app.model.");
    CliRun.run("verify", out).assertSucceeded();
  }

  @Test
  void theMarkerCoversEveryFileOfADcpCheckpoint() throws IOException {
    Path checkpoint = TestPaths.copyTree(TRAINING.resolve("dcp/cogkit-t2v-sft/checkpoint-3"), work.resolve("checkpoint-3"));
    Path out = work.resolve("out");
    List<Object> args = List.of("convert", "--source", checkpoint, "--output", out, "--model", "cogvideox-2b");
    assertTrue(CliRun.run(args.toArray()).assertSucceeded().out().contains("1 of 1 checkpoint(s) converted"));
    JsonNode marker = TestData.json(out.resolve("_SUCCESS"));
    assertTrue(marker.toString().contains("__0_0.distcp") && marker.toString().contains(".metadata"), marker.toString());
    assertTrue(CliRun.run(args.toArray()).assertSucceeded().out().contains("0 of 1 checkpoint(s) converted, 1 up to date"));
    Path data = checkpoint.resolve("__0_0.distcp");
    Files.setLastModifiedTime(data, FileTime.fromMillis(Files.getLastModifiedTime(data).toMillis() - 60_000));
    assertTrue(CliRun.run(args.toArray()).assertSucceeded().out().contains("1 of 1 checkpoint(s) converted"),
        "a changed .distcp file is converted again");
  }

  @Test
  void sourceRootFindsEveryTrainerStepAndIterationsPicksSteps() throws IOException {
    Path root = work.resolve("runs");
    TestPaths.copyTree(TRAINING.resolve("trainer/cogvideox-t2v-sft-zero2"), root.resolve("team/sft-zero2"));
    TestPaths.copyTree(TRAINING.resolve("dcp/cogkit-t2v-sft"), root.resolve("cogkit"));
    Path all = work.resolve("all");
    CliRun.run("convert", "--source-root", root, "--output", all, "--model", "cogvideox-2b", "--iterations", "all")
        .assertSucceeded();
    assertEquals(List.of("cogkit/checkpoint-3", "team/sft-zero2/checkpoint-2", "team/sft-zero2/checkpoint-4"),
        converted(all));
    assertMatches(all.resolve("team/sft-zero2/checkpoint-4"),
        EXPECTED.resolve("trainer/cogvideox-t2v-sft-zero2/checkpoint-4.module.json"), "");
    assertMatches(all.resolve("cogkit/checkpoint-3"), EXPECTED.resolve("dcp/cogkit-t2v-sft/checkpoint-3.json"), "app.model.");
    for (String folder : converted(all)) {
      CliRun.run("verify", all.resolve(folder)).assertSucceeded();
    }

    Path latest = work.resolve("latest");
    CliRun.run("convert", "--source-root", root.resolve("team"), "--output", latest, "--model", "cogvideox-2b")
        .assertSucceeded();
    assertEquals(List.of(""), converted(latest), "one checkpoint (the latest step) goes to the output itself");
    assertMatches(latest, EXPECTED.resolve("trainer/cogvideox-t2v-sft-zero2/checkpoint-4.module.json"), "");

    Path picked = work.resolve("picked");
    CliRun.run("convert", "--source", root.resolve("team/sft-zero2"), "--output", picked, "--model", "cogvideox-2b",
        "--iterations", "2").assertSucceeded();
    assertEquals(List.of(""), converted(picked));
    assertMatches(picked, EXPECTED.resolve("trainer/cogvideox-t2v-sft-zero2/checkpoint-2.module.json"), "");

    CliRun missing = CliRun.run("convert", "--source", root.resolve("team/sft-zero2"), "--output", work.resolve("none"),
        "--model", "cogvideox-2b", "--iterations", "3").assertNoStackTrace();
    assertEquals(ExitCodes.INVALID_INPUT, missing.exitCode(), missing.err());
    assertTrue(missing.err().contains("has no checkpoint for step 3; steps present: 2, 4"), missing.err());
    assertFalse(Files.exists(work.resolve("none")));
  }

  @Test
  void dryRunPlansATrainerCheckpointAndWritesNothing() throws IOException {
    for (String fixture : List.of("dcp/cogkit-t2v-sft/checkpoint-3", "trainer/cogvideox-t2v-sft-zero2/checkpoint-4")) {
      Path out = work.resolve("dry");
      Path plan = work.resolve("plan.json");
      CliRun run = CliRun.run("convert", "--source", TRAINING.resolve(fixture), "--output", out, "--model", "cogvideox-2b",
          "--weights", fixture.startsWith("dcp") ? "module" : "fp32-master", "--dry-run", "--plan-json", plan)
          .assertSucceeded().assertNoStackTrace();
      assertFalse(Files.exists(out), fixture + ": a dry run writes nothing");
      String json = Files.readString(plan);
      assertTrue(json.contains("transformer_blocks.1.ff.net.2.weight"), fixture + ": " + json);
      assertTrue(json.contains("diffusion_pytorch_model.safetensors"), fixture + ": " + run.out());
    }
  }

  @Test
  void inspectListsATrainerCheckpointsTensors() {
    CliRun dcp = CliRun.run("inspect", TRAINING.resolve("dcp/cogkit-t2v-sft/checkpoint-3")).assertSucceeded();
    assertTrue(dcp.out().contains("key names: diffusers_transformer"), dcp.out());
    assertTrue(dcp.out().contains("__0_0.distcp"), dcp.out());
    assertTrue(dcp.out().contains("transformer_blocks.1.ff.net.2.weight"), dcp.out());
    assertTrue(dcp.out().matches("(?s).*transformer\\s+64 tensors.*"), dcp.out());
    CliRun ddp = CliRun.run("inspect", TRAINING.resolve("trainer/cogvideox-t2v-sft-ddp/checkpoint-3")).assertSucceeded();
    assertTrue(ddp.out().contains("model.safetensors"), ddp.out());
    assertTrue(ddp.out().matches("(?s).*\\n  patch_embed\\.proj\\.weight .*"), ddp.out());
    CliRun zero = CliRun.run("inspect", TRAINING.resolve("trainer/cogvideox-t2v-sft-zero2/checkpoint-2")).assertSucceeded();
    assertTrue(zero.out().contains("pytorch_model/mp_rank_00_model_states.pt"), zero.out());
    assertTrue(zero.out().matches("(?s).*transformer\\s+64 tensors.*"), zero.out());
  }

  private Path convert(Path source, String... options) {
    Path out = work.resolve("out" + Math.abs(source.hashCode()) + String.join("", options).hashCode());
    List<Object> args = new ArrayList<>(List.of("convert", "--source", source, "--output", out, "--model", "cogvideox-2b"));
    args.addAll(List.of(options));
    CliRun.run(args.toArray()).assertSucceeded().assertNoStackTrace();
    return out;
  }

  /** The folders below {@code out} holding a converted transformer, relative, sorted. */
  private static List<String> converted(Path out) throws IOException {
    try (Stream<Path> files = Files.walk(out)) {
      return files.filter(p -> p.getFileName().toString().equals("diffusion_pytorch_model.safetensors"))
          .map(p -> out.relativize(p.getParent().getParent()).toString()).sorted().toList();
    }
  }

  /**
   * The converted transformer holds exactly the expectation's tensors (dtype, shape, sha256), each
   * under its saved name less {@code savedPrefix}.
   */
  static void assertMatches(Path output, Path expectation, String savedPrefix) throws IOException {
    Map<String, WrittenTensor> written =
        ComponentWeights.read(output.resolve("transformer"), "diffusion_pytorch_model").tensors();
    Map<String, JsonNode> saved = new TreeMap<>();
    TestData.json(expectation).get("tensors").fields().forEachRemaining(e -> {
      assertTrue(e.getKey().startsWith(savedPrefix), e.getKey());
      saved.put(e.getKey().substring(savedPrefix.length()), e.getValue());
    });
    List<String> problems = new ArrayList<>();
    saved.forEach((name, e) -> {
      WrittenTensor got = written.get(name);
      List<Long> shape = new ArrayList<>();
      e.get("shape").forEach(d -> shape.add(d.asLong()));
      if (got == null) {
        problems.add(name + ": missing");
      } else if (!got.dtype().safetensorsName().equals(e.get("dtype").asText()) || !got.shape().equals(shape)
          || !got.sha256().equals(e.get("sha256").asText())) {
        problems.add(name + ": written " + got.dtype() + " " + got.shape() + " " + got.sha256() + ", saved " + e);
      }
    });
    written.keySet().stream().filter(n -> !saved.containsKey(n)).forEach(n -> problems.add(n + ": not saved"));
    assertTrue(saved.size() >= 16, expectation + ": too few tensors to mean anything");
    assertEquals(List.of(), problems, output + " against " + expectation);
  }
}
