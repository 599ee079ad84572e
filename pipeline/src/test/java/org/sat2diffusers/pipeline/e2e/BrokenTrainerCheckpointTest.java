package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 15: a broken trainer or DCP checkpoint is one clear error naming the file and what is wrong,
 * with no stack trace, and nothing is committed (the output folder is never created).
 */
class BrokenTrainerCheckpointTest {
  @TempDir Path work;

  @Test
  void aTruncatedDistcpFileIsOneErrorNamingIt() throws IOException {
    Path checkpoint = copy("dcp/cogkit-t2v-sft/checkpoint-3");
    Path data = checkpoint.resolve("__0_0.distcp");
    cut(data, 10_000); // among the model chunks (the optimizer state comes after them)
    assertOneError(checkpoint, data + ": has " + Files.size(data) + " bytes, but the chunk of 'app.model.");
  }

  @Test
  void aMissingDistcpFileIsOneErrorNamingIt() throws IOException {
    Path checkpoint = copy("dcp/cogkit-t2v-sft/checkpoint-3");
    Files.delete(checkpoint.resolve("__0_0.distcp"));
    assertOneError(checkpoint, checkpoint.resolve("__0_0.distcp") + ": missing: .metadata puts chunks of 'app.model.");
  }

  @Test
  void aTruncatedModelSafetensorsIsOneErrorNamingIt() throws IOException {
    Path checkpoint = copy("trainer/cogvideox-t2v-sft-ddp/checkpoint-3");
    Path model = checkpoint.resolve("model.safetensors");
    cut(model, Files.size(model) - 100);
    assertOneError(checkpoint, model.toString());
  }

  @Test
  void aCheckpointFolderWithoutWeightsIsOneErrorSayingWhatWasExpected() throws IOException {
    Path checkpoint = copy("trainer/cogvideox-t2v-sft-ddp/checkpoint-3");
    Files.delete(checkpoint.resolve("model.safetensors"));
    assertOneError(checkpoint, checkpoint + ": not a trainer checkpoint: none of 'latest' (DeepSpeed), model.safetensors");
  }

  @Test
  void aDeepSpeedCheckpointWhoseLatestNamesNoFolderIsOneError() throws IOException {
    Path checkpoint = copy("trainer/cogvideox-t2v-sft-zero2/checkpoint-2");
    Files.writeString(checkpoint.resolve("latest"), "../elsewhere");
    assertOneError(checkpoint, checkpoint.resolve("latest") + ": should name the DeepSpeed tag folder beside it");
  }

  @Test
  void aLoraRunsCheckpointWithoutABaseIsOneErrorSayingToPassTheBasePipeline() throws IOException {
    Path peftOnly = copy("trainer/cogvideox-t2v-lora-ddp/checkpoint-3");
    assertOneError(peftOnly, peftOnly + ": holds only the PEFT LoRA file " + peftOnly.resolve("pytorch_lora_weights.safetensors"));
    assertOneError(peftOnly, "pass --base-pipeline DIR");
    Path dcp = copy("dcp/fsdp2-t2v-lora-2ranks/checkpoint-3");
    assertOneError(dcp, dcp + ": holds LoRA weights only");
    assertOneError(dcp, "pass --base-pipeline DIR");
  }

  private Path copy(String fixture) throws IOException {
    return TestPaths.copyTree(TrainerCheckpointConversionTest.TRAINING.resolve(fixture), work.resolve("src").resolve(fixture));
  }

  private static void cut(Path file, long length) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(length);
    }
  }

  private void assertOneError(Path checkpoint, String expected) {
    Path out = work.resolve("out");
    CliRun run = CliRun.run("convert", "--source", checkpoint, "--output", out, "--model", "cogvideox-2b")
        .assertNoStackTrace();
    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), run.err());
    assertTrue(run.err().contains(expected), "expected '" + expected + "' in:\n" + run.err());
    assertEquals(1, run.err().lines().filter(l -> l.startsWith("error:")).count(), run.err());
    assertFalse(Files.exists(out), "nothing may be written for a broken checkpoint");
  }
}
