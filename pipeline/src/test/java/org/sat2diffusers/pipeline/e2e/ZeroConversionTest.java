package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sat2diffusers.pipeline.e2e.TrainingExpectations.training;
import static org.sat2diffusers.pipeline.e2e.TrainingExpectations.transformerMismatches;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.sat2diffusers.io.deepspeed.ZeroCheckpoint;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.DtypeConversions;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.sat2diffusers.pipeline.e2e.ComponentWeights.WrittenTensor;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 15, DeepSpeed ZeRO: engine save_checkpoint folders of the test transformer (Diffusers names,
 * testdata/training/deepspeed) convert with {@code --weights fp32-master} to bit for bit what DeepSpeed's
 * own zero_to_fp32.py gives, and with {@code --dtype bf16} to one rounding of it; {@code --weights module}
 * gives the 16-bit module of ZeRO-2 and is refused for ZeRO-3 (placeholders), naming fp32-master; SAT's
 * own z3_rank_* saves consolidate to the module they were saved from. A missing, cut-short or foreign
 * partition is one clear error (exit code 3) and nothing is committed.
 */
class ZeroConversionTest {
  /** The test transformer is CogVideoX-2B-shaped (hidden 16: too small for the tensors to tell). */
  private static final String MODEL = "cogvideox-2b";

  @TempDir Path work;

  @ParameterizedTest
  @ValueSource(strings = {"z2-dp2-bf16-full", "z2-dp4-fp16-full-ema", "z3-dp2-bf16-full"})
  void fp32MastersAreWhatZeroToFp32Gives(String zeroCase) throws IOException {
    Path out = work.resolve("out");
    CliRun.run("convert", "--source", training("deepspeed/" + zeroCase), "--output", out, "--weights", "fp32-master",
        "--model", MODEL).assertSucceeded().assertNoStackTrace();
    assertEquals(List.of(), transformerMismatches(out, training("expected/deepspeed/" + zeroCase + ".zero_to_fp32.json")));
    assertTrue(Files.exists(out.resolve("_SUCCESS")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"z2-dp2-bf16-full", "z2-dp4-fp16-full-ema", "z3-dp2-bf16-full"})
  void fp32MastersCastToBf16AreRoundedOnce(String zeroCase) throws IOException {
    Path out = work.resolve("out");
    CliRun.run("convert", "--source", training("deepspeed/" + zeroCase), "--output", out, "--weights", "fp32-master",
        "--dtype", "bf16", "--model", MODEL).assertSucceeded();
    assertEquals(List.of(),
        transformerMismatches(out, training("expected/deepspeed/" + zeroCase + ".zero_to_fp32.bf16.json")));
  }

  /**
   * A LoRA run (PEFT-injected Diffusers transformer, base frozen): its masters are what zero_to_fp32.py
   * gives (checked on the recipes' bytes), and each {@code M.base_layer.weight} with its {@code lora_A}/
   * {@code lora_B} masters becomes {@code M.weight = W + B @ A} (scale 1: PEFT files keep no alpha and
   * Diffusers loads them so), rounded once to W's 16-bit dtype; everything else is written as it is.
   * dp = 6 and 3 are the cases with padding.
   */
  @ParameterizedTest
  @ValueSource(strings = {"z2-dp2-bf16-lora", "z3-dp2-fp16-lora", "z2-dp6-bf16-lora", "z3-dp3-bf16-lora"})
  void fp32MastersOfALoraRunMergeItsUpdateOnce(String zeroCase) throws IOException {
    Path out = work.resolve("out");
    Path source = training("deepspeed/" + zeroCase);
    CliRun.run("convert", "--source", source, "--output", out, "--weights", "fp32-master", "--model", MODEL)
        .assertSucceeded().assertNoStackTrace();
    Map<String, byte[]> masters = SourceBytes.read(ZeroCheckpoint.open(source.toString()).fp32Master());
    JsonNode expected = TestData.json(training("expected/deepspeed/" + zeroCase + ".zero_to_fp32.json")).get("tensors");
    Map<String, WrittenTensor> written =
        ComponentWeights.read(out.resolve("transformer"), "diffusion_pytorch_model").tensors();
    List<String> problems = new ArrayList<>();
    Set<String> outputs = new TreeSet<>();
    expected.fieldNames().forEachRemaining(key -> {
      byte[] bytes = masters.get(key);
      if (bytes == null || !TestData.sha256(bytes).equals(expected.get(key).get("sha256").asText())) {
        problems.add(key + ": the master is not zero_to_fp32's");
      }
      if (key.contains(".lora_")) {
        return;
      }
      String name = key.replace(".base_layer.", ".");
      outputs.add(name);
      WrittenTensor got = written.get(name);
      if (got == null) {
        problems.add(name + ": missing");
      } else if (key.endsWith(".base_layer.weight")) {
        String module = key.substring(0, key.length() - ".base_layer.weight".length());
        byte[] merged = merge(bytes, got.dtype(), got.shape(), masters.get(module + ".lora_A.default.weight"),
            masters.get(module + ".lora_B.default.weight"));
        long ulps = Ulps.maxDistance(merged, got.bytes(), got.dtype());
        if (ulps > 1) {
          problems.add(name + ": LoRA merge off by " + ulps + " ulp");
        }
      } else if (!TestData.sha256(got.bytes()).equals(expected.get(key).get("sha256").asText())) {
        problems.add(name + ": other bytes than " + key);
      }
    });
    written.keySet().stream().filter(k -> !outputs.contains(k)).forEach(k -> problems.add(k + ": not expected"));
    assertEquals(List.of(), problems);
    assertTrue(outputs.stream().anyMatch(k -> k.endsWith("attn1.to_q.weight")), "no merged module: " + outputs);
  }

  /** W + B @ A in fp32 (W widened exactly), rounded once to W's dtype. */
  private static byte[] merge(byte[] w, Dtype dtype, List<Long> shape, byte[] a, byte[] b) {
    int rows = Math.toIntExact(shape.get(0));
    int cols = Math.toIntExact(shape.get(1));
    int rank = a.length / 4 / cols;
    float[] weight = new float[rows * cols];
    DtypeConversions.decode(dtype, ByteBuffer.wrap(w), weight, weight.length);
    float[] fa = new float[rank * cols];
    float[] fb = new float[rows * rank];
    DtypeConversions.decode(Dtype.F32, ByteBuffer.wrap(a), fa, fa.length);
    DtypeConversions.decode(Dtype.F32, ByteBuffer.wrap(b), fb, fb.length);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        float delta = 0;
        for (int k = 0; k < rank; k++) {
          delta += fb[i * rank + k] * fa[k * cols + j];
        }
        weight[i * cols + j] += delta;
      }
    }
    byte[] out = new byte[w.length];
    DtypeConversions.encode(dtype, weight, weight.length, ByteBuffer.wrap(out));
    return out;
  }

  /** The default: ZeRO-2's model states hold the 16-bit module (the masters copied in after each step). */
  @ParameterizedTest
  @ValueSource(strings = {"z2-dp2-bf16-full", "z2-dp4-fp16-full-ema"})
  void moduleOfAZero2SaveIsItsSixteenBitWeights(String zeroCase) throws IOException {
    Path out = work.resolve("out");
    CliRun.run("convert", "--source", training("deepspeed/" + zeroCase + "/global_step3"), "--output", out,
        "--model", MODEL)
        .assertSucceeded();
    assertEquals(List.of(), transformerMismatches(out, training("expected/deepspeed/" + zeroCase + ".module.json")));
  }

  @Test
  void moduleOfAZero3SaveIsRefusedNamingFp32Master() throws IOException {
    Path out = work.resolve("out");
    CliRun run = CliRun.run("convert", "--source", training("deepspeed/z3-dp2-bf16-full"), "--output", out);
    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), run.err());
    assertTrue(run.err().contains("placeholders") && run.err().contains("--weights fp32-master"), run.err());
    assertTrue(run.err().contains("zero_pp_rank_0_mp_rank_00_model_states.pt"), run.err());
    assertNothingCommitted(out);
  }

  @Test
  void fp32MastersOfACheckpointWithoutOptimizerPartitionsIsAClearError() throws IOException {
    Path out = work.resolve("out");
    CliRun run = CliRun.run("convert", "--source", TestPaths.sat("cogvideox-2b-sft"), "--output", out, "--weights",
        "fp32-master");
    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), run.err());
    assertTrue(run.err().contains("--weights fp32-master needs DeepSpeed ZeRO optimizer partitions"), run.err());
    run.assertNoStackTrace();
    assertNothingCommitted(out);
  }

  @ParameterizedTest
  @CsvSource({
      "sat-z3/cogvideox-5b-i2v-release-z3dp3/transformer, cogvideox-5b-i2v-release/transformer.json",
      "sat-z3/cogvideox1.5-5b-i2v-lora-z3dp2, cogvideox1.5-5b-i2v-lora/300.alpha1.json"})
  void satZero3RanksConvertAsTheModuleTheyWereSavedFrom(String source, String expected) throws IOException {
    Path out = work.resolve("out");
    CliRun.run("convert", "--source", training(source), "--output", out).assertSucceeded().assertNoStackTrace();
    assertEquals(List.of(), ExpectedTensors.mismatches(out, TestPaths.expected(expected)));
  }

  /** Each broken set fails with one error naming the file at fault, exit code 3, and commits nothing. */
  @ParameterizedTest
  @CsvSource({
      "z2-missing-rank, bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt, fp32-master",
      "z2-truncated-rank, bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt, fp32-master",
      "z2-other-world-size, bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt, fp32-master",
      "z2-other-run, bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt, fp32-master",
      "z3-missing-rank, bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt, fp32-master",
      "z3-lora-missing-model-states, zero_pp_rank_1_mp_rank_00_model_states.pt, fp32-master",
      "sat-z3-missing-rank/transformer, z3_rank_01_model_states.pt, module",
      "sat-z3-truncated-rank/transformer, z3_rank_02_model_states.pt, module"})
  void aMissingCutShortOrForeignPartitionIsOneClearError(String broken, String file, String weights)
      throws IOException {
    Path out = work.resolve("out");
    CliRun run = CliRun.run("convert", "--source", training("broken/" + broken), "--output", out, "--weights", weights);
    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), run.err());
    assertTrue(run.err().contains(file), broken + ": the error does not name " + file + ":\n" + run.err());
    run.assertNoStackTrace();
    assertNothingCommitted(out);
  }

  @Test
  void dryRunPlansTheMastersAndInspectListsThem() throws IOException {
    Path source = training("deepspeed/z3-dp2-bf16-full");
    Path plan = work.resolve("plan.json");
    Path out = work.resolve("out");
    CliRun dry = CliRun.run("convert", "--source", source, "--output", out, "--weights", "fp32-master", "--dry-run",
        "--plan-json", plan, "--model", MODEL).assertSucceeded();
    assertFalse(Files.exists(out), "a dry run wrote " + out);
    String planText = Files.readString(plan);
    assertTrue(planText.contains("transformer_blocks.0.attn1.to_q.weight"), planText);
    assertTrue(planText.contains("assembled_from") && planText.contains("zero_pp_rank_1_mp_rank_00_optim_states.pt"),
        planText);

    CliRun inspect = CliRun.run("inspect", source).assertSucceeded();
    Map<String, String> expectedDtypes = Map.of("transformer_blocks.0.attn1.to_q.weight", "F32",
        "patch_embed.proj.weight", "F32");
    expectedDtypes.forEach((key, dtype) -> assertTrue(inspect.out().lines()
        .anyMatch(l -> l.contains(key) && l.contains(dtype)), key + " not listed:\n" + inspect.out()));
    assertTrue(inspect.out().contains("transformer") && inspect.out().contains("tensors"), inspect.out());
    assertEquals(64, inspect.out().lines().filter(l -> l.matches("\\s+(transformer_blocks|patch_embed|time_embedding"
        + "|norm_final|norm_out|proj_out)\\S*\\s+F32.*")).count(), inspect.out());
  }

  /** --weights is part of what the output was made from: changing it converts again, the same run is skipped. */
  @Test
  void changingWeightsConvertsAgain() {
    Path out = work.resolve("out");
    Path source = training("deepspeed/z2-dp2-bf16-full");
    assertTrue(CliRun.run("convert", "--source", source, "--output", out, "--model", MODEL).assertSucceeded().out()
        .contains("1 of 1 checkpoint(s) converted"));
    assertTrue(CliRun.run("convert", "--source", source, "--output", out, "--weights", "fp32-master", "--model",
        MODEL).assertSucceeded().out().contains("1 of 1 checkpoint(s) converted"));
    assertTrue(CliRun.run("convert", "--source", source, "--output", out, "--weights", "fp32-master", "--model",
        MODEL).assertSucceeded().out().contains("up to date"));
  }

  private static void assertNothingCommitted(Path out) throws IOException {
    if (Files.exists(out)) {
      try (var files = Files.walk(out)) {
        List<Path> left = files.filter(Files::isRegularFile).toList();
        assertAll(() -> assertEquals(List.of(), left, "files left in " + out));
      }
    }
  }
}
