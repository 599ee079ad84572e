package org.sat2diffusers.io.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.torch.RecipeDigests;
import org.sat2diffusers.io.storage.Fixtures;
import org.sat2diffusers.io.trainer.TrainerCheckpoint.Layout;
import org.sat2diffusers.io.trainer.TrainerCheckpoint.Weights;

class TrainerCheckpointTest {
  private static final Path TRAINING = Fixtures.testdata().resolve("training");
  private static final Path TRAINER = TRAINING.resolve("trainer");
  private static final Path EXPECTED = TRAINING.resolve("expected/trainer");

  @Test
  void zero2FullFineTuneStepsAreRecognizedAndReadAsModuleAndMasters() throws Exception {
    Path run = TRAINER.resolve("cogvideox-t2v-sft-zero2");
    for (String step : List.of("checkpoint-2", "checkpoint-4")) {
      TrainerCheckpoint checkpoint = TrainerCheckpoint.recognize(run.resolve(step).toString());
      assertEquals(step, "checkpoint-" + checkpoint.step());
      assertEquals(Layout.DEEPSPEED, checkpoint.layout());
      assertNull(checkpoint.loraFile());
      Path expected = EXPECTED.resolve("cogvideox-t2v-sft-zero2/checkpoint-" + checkpoint.step());
      assertEquals(RecipeDigests.expected(Path.of(expected + ".module.json")),
          RecipeDigests.actual(checkpoint.weights(Weights.MODULE)));
      assertEquals(RecipeDigests.expected(Path.of(expected + ".zero_to_fp32.json")),
          RecipeDigests.actual(checkpoint.weights(Weights.FP32_MASTER)));
    }
  }

  @Test
  void zero2LoraRunHasItsModuleMastersAndPeftFile() throws Exception {
    TrainerCheckpoint checkpoint = TrainerCheckpoint.recognize(TRAINER.resolve("cogvideox-t2v-lora-zero2/checkpoint-3").toString());
    assertEquals(Layout.DEEPSPEED, checkpoint.layout());
    Path expected = EXPECTED.resolve("cogvideox-t2v-lora-zero2/checkpoint-3");
    assertEquals(RecipeDigests.expected(Path.of(expected + ".module.json")), RecipeDigests.actual(checkpoint.weights(Weights.MODULE)));
    assertEquals(RecipeDigests.expected(Path.of(expected + ".zero_to_fp32.json")),
        RecipeDigests.actual(checkpoint.weights(Weights.FP32_MASTER)));
    assertEquals(RecipeDigests.expected(Path.of(expected + ".lora.json")), RecipeDigests.actual(checkpoint.lora()));
  }

  @Test
  void ddpRunIsItsModelSafetensors() throws Exception {
    TrainerCheckpoint checkpoint = TrainerCheckpoint.recognize(TRAINER.resolve("cogvideox-t2v-sft-ddp/checkpoint-3").toString());
    assertEquals(Layout.SAFETENSORS, checkpoint.layout());
    assertEquals(3, checkpoint.step());
    assertEquals(RecipeDigests.expected(EXPECTED.resolve("cogvideox-t2v-sft-ddp/checkpoint-3.model.json")),
        RecipeDigests.actual(checkpoint.weights(Weights.MODULE)));
  }

  @Test
  void ddpLoraRunIsItsPeftFileOnly() throws Exception {
    TrainerCheckpoint checkpoint = TrainerCheckpoint.recognize(TRAINER.resolve("cogvideox-t2v-lora-ddp/checkpoint-3").toString());
    assertEquals(Layout.LORA_ONLY, checkpoint.layout());
    assertEquals(List.of(), checkpoint.weights(Weights.MODULE));
    assertEquals(RecipeDigests.expected(EXPECTED.resolve("cogvideox-t2v-lora-ddp/checkpoint-3.lora.json")),
        RecipeDigests.actual(checkpoint.lora()));
  }

  @Test
  void cogKitCheckpointIsItsDcpModel() throws Exception {
    TrainerCheckpoint checkpoint = TrainerCheckpoint.recognize(TRAINING.resolve("dcp/cogkit-t2v-sft/checkpoint-3").toString());
    assertEquals(Layout.DCP, checkpoint.layout());
    assertEquals(RecipeDigests.expected(TRAINING.resolve("expected/dcp/cogkit-t2v-sft/checkpoint-3.json")),
        RecipeDigests.actual(checkpoint.weights(Weights.MODULE)));
  }

  @Test
  void aFolderWithNoneOfTheLayoutsIsAnErrorNamingIt(@TempDir Path tmp) {
    IOException e = assertThrows(IOException.class, () -> TrainerCheckpoint.recognize(tmp.toString()));
    assertTrue(e.getMessage().startsWith(tmp + ": not a trainer checkpoint"), e.getMessage());
  }
}
