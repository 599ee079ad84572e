package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.dcp.DcpCheckpoint;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.DtypeConversions;
import org.sat2diffusers.io.trainer.TrainerCheckpoint;
import org.sat2diffusers.pipeline.e2e.ComponentWeights.WrittenTensor;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 15, section 3: a LoRA run's checkpoint that holds only the PEFT LoRA (the DDP run's
 * {@code pytorch_lora_weights.safetensors}, CogKit's 2-rank LoRA-only DCP folder) converts with
 * {@code --base-pipeline} to the base's transformer with the LoRA merged: every merged weight is
 * {@code W + (B @ A) * scale}, computed here from the base's and the checkpoint's bytes, within 1 ulp;
 * every other tensor is the base's, byte for byte. The base is the test model the fixtures were
 * trained from (testdata/training/README.md), converted from its SAT checkpoint.
 */
class LoraOnlyTrainerCheckpointTest {
  private static final Path DDP = TrainerCheckpointConversionTest.TRAINING.resolve("trainer/cogvideox-t2v-lora-ddp/checkpoint-3");
  private static final Path DCP = TrainerCheckpointConversionTest.TRAINING.resolve("dcp/fsdp2-t2v-lora-2ranks/checkpoint-3");

  @TempDir static Path work;
  private static Path base;

  @BeforeAll
  static void makeTheBase() {
    base = work.resolve("base");
    CliRun.run("convert", "--source", TestPaths.sat("cogvideox-2b-sft"), "--output", base).assertSucceeded();
  }

  @Test
  void ddpRunsPeftFileMergesIntoTheBaseTransformerAtScaleOne() throws IOException {
    Path out = work.resolve("ddp");
    CliRun run = CliRun.run("convert", "--source", DDP, "--output", out, "--base-pipeline", base, "--model", "cogvideox-2b").assertSucceeded();
    assertTrue(run.err().contains("merged at scale 1") || TestData.json(out.resolve("conversion_report.json")).toString()
        .contains("merged at scale 1"), run.err());
    Map<String, byte[]> lora = new TreeMap<>();
    SourceBytes.read(TrainerCheckpoint.recognize(DDP.toString()).lora())
        .forEach((k, v) -> lora.put(k.substring("transformer.".length()), v));
    assertMerged(out, lora, Dtype.F32, 1.0f);
    assertTrue(Files.exists(out.resolve("vae/diffusion_pytorch_model.safetensors")), "the rest comes from the base");
    CliRun.run("verify", out).assertSucceeded();
  }

  @Test
  void twoRankLoraOnlyDcpFolderMergesAtTheGivenAlpha() throws IOException {
    Path out = work.resolve("dcp");
    CliRun.run("convert", "--source", DCP, "--output", out, "--base-pipeline", base, "--model", "cogvideox-2b", "--lora-alpha", "8").assertSucceeded();
    Map<String, byte[]> lora = new TreeMap<>();
    SourceBytes.read(DcpCheckpoint.open(DCP.toString()).recipes(TrainerCheckpoint.DCP_MODEL_PREFIX))
        .forEach((k, v) -> lora.put(k.substring(TrainerCheckpoint.DCP_MODEL_PREFIX.length()), v));
    assertMerged(out, lora, Dtype.BF16, 8.0f / 5);
  }

  @Test
  void dryRunPlansTheMergeAndWritesNothing() {
    Path out = work.resolve("dry");
    CliRun run = CliRun.run("convert", "--source", DDP, "--output", out, "--base-pipeline", base, "--model", "cogvideox-2b", "--dry-run")
        .assertSucceeded();
    assertTrue(run.out().contains("LoRA merged: 8 modules, r=4 alpha=4.0 scale=1.0"), run.out());
    assertFalse(Files.exists(out));
  }

  /** Every base tensor written; those with a LoRA pair merged within 1 ulp, the others the base's bytes. */
  private static void assertMerged(Path out, Map<String, byte[]> lora, Dtype loraDtype, float scale) throws IOException {
    Map<String, WrittenTensor> baseTensors = ComponentWeights.read(base.resolve("transformer"), "diffusion_pytorch_model").tensors();
    Map<String, WrittenTensor> written = ComponentWeights.read(out.resolve("transformer"), "diffusion_pytorch_model").tensors();
    assertEquals(baseTensors.keySet(), written.keySet());
    List<String> problems = new ArrayList<>();
    int merged = 0;
    for (Map.Entry<String, WrittenTensor> e : baseTensors.entrySet()) {
      String module = e.getKey().substring(0, e.getKey().lastIndexOf('.'));
      WrittenTensor got = written.get(e.getKey());
      byte[] a = lora.get(module + ".lora_A.weight");
      if (e.getKey().endsWith(".weight") && a != null) {
        merged++;
        byte[] expected = merge(e.getValue(), a, lora.get(module + ".lora_B.weight"), loraDtype, scale);
        long ulps = Ulps.maxDistance(expected, got.bytes(), got.dtype());
        if (ulps > 1) {
          problems.add(e.getKey() + ": LoRA merge off by " + ulps + " ulp");
        }
        if (Arrays.equals(e.getValue().bytes(), got.bytes())) {
          problems.add(e.getKey() + ": still the base's bytes (the LoRA changed nothing)");
        }
      } else if (!Arrays.equals(e.getValue().bytes(), got.bytes())) {
        problems.add(e.getKey() + ": not the base's bytes");
      }
    }
    assertEquals(List.of(), problems);
    assertEquals(lora.size() / 2, merged, "every LoRA module merged: " + lora.keySet());
  }

  /** W + (B @ A) * scale, the product in double, rounded once to W's dtype. */
  private static byte[] merge(WrittenTensor w, byte[] a, byte[] b, Dtype loraDtype, float scale) {
    int rows = Math.toIntExact(w.shape().get(0));
    int cols = Math.toIntExact(w.shape().get(1));
    int width = loraDtype == Dtype.F32 ? 4 : 2;
    int rank = a.length / width / cols;
    float[] weight = new float[rows * cols];
    DtypeConversions.decode(w.dtype(), ByteBuffer.wrap(w.bytes()), weight, weight.length);
    float[] fa = new float[rank * cols];
    float[] fb = new float[rows * rank];
    DtypeConversions.decode(loraDtype, ByteBuffer.wrap(a), fa, fa.length);
    DtypeConversions.decode(loraDtype, ByteBuffer.wrap(b), fb, fb.length);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        double delta = 0;
        for (int k = 0; k < rank; k++) {
          delta += (double) fb[i * rank + k] * fa[k * cols + j];
        }
        weight[i * cols + j] = (float) (weight[i * cols + j] + delta * scale);
      }
    }
    byte[] out = new byte[w.bytes().length];
    DtypeConversions.encode(w.dtype(), weight, weight.length, ByteBuffer.wrap(out));
    return out;
  }
}
