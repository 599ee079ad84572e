package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.run.DryRun;
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
    SatCheckpoint checkpoint = TrainerLayout.checkpoint(folder).orElseThrow();
    String output = work.resolve("out").toString();
    ConversionSettings d = ConversionSettings.defaults();
    ConversionSettings settings = new ConversionSettings(d.loraAlpha(), d.dtype(), d.vaeDtype(), d.maxShardBytes(),
        "cogvideox-2b", d.satConfigYaml(), d.components());
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
    assertEquals(checkpoint.files().stream().sorted().toList(), opened.keySet().stream().sorted().toList(),
        "files the dry run opened");
    List<TensorRecipe> tensors = TrainerCheckpoint.recognize(folder).model();
    assertEquals(64, tensors.size());
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
