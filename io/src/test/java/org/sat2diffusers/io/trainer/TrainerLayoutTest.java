package org.sat2diffusers.io.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.sat.IterationSelection;
import org.sat2diffusers.io.sat.RecipeFolder;
import org.sat2diffusers.io.sat.SatCheckpoint;
import org.sat2diffusers.io.sat.SatLayoutException;
import org.sat2diffusers.io.storage.Fixtures;

class TrainerLayoutTest {
  private static final Path TRAINING = Fixtures.testdata().resolve("training");

  @Test
  void aDeepSpeedStepIsItsTagFoldersZeroSave() throws IOException {
    Path step = TRAINING.resolve("trainer/cogvideox-t2v-sft-zero2/checkpoint-2");
    SatCheckpoint c = TrainerLayout.checkpoint(step.toString()).orElseThrow();
    assertEquals("checkpoint-2", c.iteration());
    // ZeRO-2: the 16-bit module is one torch file, as for SAT's iterations; --weights fp32-master reads the partitions
    assertEquals(List.of(step.resolve("pytorch_model/mp_rank_00_model_states.pt").toString()), c.files());
    assertEquals(List.of(), c.recipeFolders());
  }

  @Test
  void ddpAndDcpStepsAreTrainerRecipeFolders() throws IOException {
    Path ddp = TRAINING.resolve("trainer/cogvideox-t2v-sft-ddp/checkpoint-3");
    SatCheckpoint c = TrainerLayout.checkpoint(ddp.toString()).orElseThrow();
    assertEquals(List.of(ddp.resolve("model.safetensors").toString()), c.files());
    assertEquals(List.of(new RecipeFolder(RecipeFolder.Kind.TRAINER, ddp.toString())), c.recipeFolders());
    Path dcp = TRAINING.resolve("dcp/fsdp2-t2v-lora-2ranks/checkpoint-3");
    assertEquals(List.of(dcp.resolve(".metadata").toString(), dcp.resolve("__0_0.distcp").toString(),
        dcp.resolve("__1_0.distcp").toString()), TrainerLayout.checkpoint(dcp.toString()).orElseThrow().files());
  }

  @Test
  void satLayoutsAreNotTrainerCheckpoints() throws IOException {
    Path sat = Fixtures.testdata().resolve("sat/cogvideox-2b-sft");
    assertTrue(TrainerLayout.checkpoint(sat.toString()).isEmpty(), "a SAT run ('latest' as a DeepSpeed step has)");
    assertTrue(TrainerLayout.checkpoint(sat.resolve("1000").toString()).isEmpty(), "a SAT iteration folder");
    assertTrue(TrainerLayout.run(sat.toString()).isEmpty());
  }

  @Test
  void anOutputFolderIsARunWhoseIterationsAreSteps() throws IOException {
    TrainerRun run = TrainerLayout.run(TRAINING.resolve("trainer/cogvideox-t2v-sft-zero2").toString()).orElseThrow();
    assertEquals(List.of(2L, 4L), List.copyOf(run.steps().keySet()));
    assertEquals(List.of("checkpoint-4"), run.checkpoints(IterationSelection.latest()).stream()
        .map(SatCheckpoint::iteration).toList());
    assertEquals(List.of("checkpoint-4", "checkpoint-2"), run.checkpoints(IterationSelection.parse("4,checkpoint-2"))
        .stream().map(SatCheckpoint::iteration).toList());
    SatLayoutException e = assertThrows(SatLayoutException.class,
        () -> run.checkpoints(IterationSelection.parse("3,1000-ema")));
    assertTrue(e.getMessage().endsWith("has no checkpoint for step 3, 1000-ema; steps present: 2, 4"), e.getMessage());
  }

  @Test
  void discoveryFindsOutputFoldersAtAnyDepthAndOnlyThem(@TempDir Path root) throws IOException {
    Files.createDirectories(root.resolve("a/b/run/checkpoint-10"));
    Files.writeString(root.resolve("a/b/run/checkpoint-10/model.safetensors"), "x");
    Files.createDirectories(root.resolve("a/b/run/checkpoint-9/pytorch_model"));
    Files.writeString(root.resolve("a/b/run/checkpoint-9/latest"), "pytorch_model");
    Files.createDirectories(root.resolve("checkpoint-1"));
    Files.writeString(root.resolve("checkpoint-1/.metadata"), "x");
    Files.createDirectories(root.resolve("other/checkpoint-x"));
    Files.writeString(root.resolve("other/checkpoint-x/model.safetensors"), "x");
    Files.createDirectories(root.resolve("empty/checkpoint-5"));

    List<TrainerRun> runs = TrainerLayout.discover(root.toString(), 16);

    assertEquals(List.of("", "a/b/run"), runs.stream().map(TrainerRun::relativePath).toList());
    assertEquals(Map.of(1L, root.resolve("checkpoint-1").toString()), runs.get(0).steps());
    assertEquals(Map.of(9L, root.resolve("a/b/run/checkpoint-9").toString(), 10L,
        root.resolve("a/b/run/checkpoint-10").toString()), runs.get(1).steps());
    assertTrue(runs.get(1).holds(root.resolve("a/b/run/checkpoint-9/pytorch_model").toString()));
    assertTrue(!runs.get(1).holds(root.resolve("a/b/run/checkpoint-1").toString()));
    assertEquals(List.of(), TrainerLayout.discover(root.toString(), 2).stream().map(TrainerRun::relativePath)
        .filter(r -> r.equals("a/b/run")).toList(), "below the depth limit");
  }
}
