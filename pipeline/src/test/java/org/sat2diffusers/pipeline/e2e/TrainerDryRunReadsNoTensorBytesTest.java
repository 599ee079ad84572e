package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sat2diffusers.io.sat.SatCheckpoint;
import org.sat2diffusers.io.sat.SatLayout;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.TensorRecipe;
import org.sat2diffusers.io.trainer.TrainerCheckpoint;
import org.sat2diffusers.io.trainer.TrainerLayout;
import org.sat2diffusers.pipeline.e2e.DryRunReadsNoTensorBytesTest.RecordingInput;
import org.sat2diffusers.pipeline.jobs.BasePipelines;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.run.DryRun;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.convert.ConversionSettings;

/**
 * Issue 15: a dry run of a trainer checkpoint read file by file (model.safetensors, pytorch_model.bin, a DCP folder)
 * plans it from headers and pickles alone: every file of the checkpoint is opened through the dry
 * run's opener, and no read touches the bytes of a tensor (their ranges from the reader's own recipes).
 */
class TrainerDryRunReadsNoTensorBytesTest {
  @TempDir Path work;

  @ParameterizedTest
  @ValueSource(strings = {"trainer/cogvideox-t2v-sft-ddp/checkpoint-3", "trainer/cogvideox-t2v-sft-ddp-bin/checkpoint-3",
      "dcp/cogkit-t2v-sft/checkpoint-3"})
  void dryRunReadsHeadersAndPicklesOnly(String fixture) throws IOException {
    String folder = TrainerCheckpointConversionTest.TRAINING.resolve(fixture).toString();
    assertPlansFromHeaders(folder, settings(), List.of(), TrainerCheckpoint.recognize(folder).model());
  }

  /** A LoRA-only checkpoint's plan reads the headers of the base transformer's files and of the LoRA file only. */
  @Test
  void loraOnlyCheckpointOnABaseReadsHeadersOnly() throws IOException {
    Path base = work.resolve("base");
    CliRun.run("convert", "--source", TestPaths.sat("cogvideox-2b-sft"), "--output", base).assertSucceeded();
    String folder = TrainerCheckpointConversionTest.TRAINING.resolve("trainer/cogvideox-t2v-lora-ddp/checkpoint-3").toString();
    String transformer = base.resolve("transformer").toString();
    List<TensorRecipe> tensors = TrainerCheckpoint.recognize(folder).model(RandomAccessInputs::open, transformer);
    assertEquals(64 + 16, tensors.size());
    assertPlansFromHeaders(folder, settings().withBasePipeline(BasePipelines.read(base.toString(), false)),
        List.of(base.resolve("transformer/diffusion_pytorch_model.safetensors").toString()), tensors);
  }

  private static ConversionSettings settings() {
    ConversionSettings d = ConversionSettings.defaults();
    return new ConversionSettings(d.loraAlpha(), d.dtype(), d.vaeDtype(), d.maxShardBytes(),
        "cogvideox-2b", d.satConfigYaml(), d.components());
  }

  /** The dry run opens the checkpoint's files and {@code baseFiles}, reading none of {@code tensors}' bytes. */
  private void assertPlansFromHeaders(String folder, ConversionSettings settings, List<String> baseFiles,
      List<TensorRecipe> tensors) throws IOException {
    String fixture = folder;
    SatCheckpoint checkpoint = TrainerLayout.checkpoint(folder).orElseThrow();
    String output = work.resolve("out").toString();
    CheckpointJob job = new CheckpointJob(output, folder, checkpoint.iteration(), checkpoint.files(), output, settings,
        SatLayout.runFolder(checkpoint), null).withRecipeFolders(checkpoint.recipeFolders());
    Map<String, RecordingInput> opened = new LinkedHashMap<>();

    List<DryRun.Planned> plans = DryRun.plan(List.of(job), file -> {
      RecordingInput in = new RecordingInput(RandomAccessInputs.open(file));
      opened.merge(file, in, (a, b) -> {
        a.reads.addAll(b.reads);
        return a;
      });
      return in;
    });

    assertEquals(1, plans.size());
    assertTrue(plans.get(0).ok(), "dry run of " + fixture + " failed: " + plans.get(0).error());
    List<String> files = new ArrayList<>(checkpoint.files());
    files.addAll(baseFiles);
    assertEquals(files.stream().sorted().toList(), opened.keySet().stream().sorted().toList(), "files the dry run opened");
    assertEquals(64, tensors.stream().filter(t -> !t.key().contains(".lora_")).count());
    for (Map.Entry<String, RecordingInput> file : opened.entrySet()) {
      long size;
      try (RandomAccessInput in = RandomAccessInputs.open(file.getKey())) {
        size = in.size();
      }
      long tensorBytes = 0;
      for (TensorRecipe t : tensors) {
        for (ByteRange r : t.ranges()) {
          if (r.file().equals(file.getKey())) {
            tensorBytes += r.length();
            for (ByteRange read : file.getValue().reads) {
              assertTrue(read.end() <= r.offset() || read.offset() >= r.end(), file.getKey() + ": the dry run read bytes "
                  + read.offset() + ".." + read.end() + " of tensor '" + t.key() + "' at " + r.offset() + ".." + r.end());
            }
          }
        }
      }
      long read = file.getValue().reads.stream().mapToLong(ByteRange::length).sum();
      assertTrue(read > 0, file.getKey() + ": nothing read");
      assertTrue(read <= size - tensorBytes, file.getKey() + ": " + read + " bytes read, more than its "
          + (size - tensorBytes) + " bytes outside tensors");
    }
  }
}
