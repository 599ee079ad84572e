package org.sat2diffusers.io.sat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.storage.Fixtures;

/**
 * Which folders of a checkpoint are read as recipes: SAT's z3_rank_* iterations and DeepSpeed ZeRO-3
 * engine saves by their files; a ZeRO-1/2 save only with {@code --weights fp32-master} (its
 * mp_rank_00 model states are an ordinary torch file holding the 16-bit module).
 */
class RecipeFoldersTest {
  private static final Path TRAINING = Fixtures.testdata().resolve("training");

  @Test
  void satZero3RanksAreOneRecipeFolderWhoseRunIsAboveIt() throws IOException {
    SatCheckpoint c = SatLayout.resolve(TRAINING.resolve("sat-z3/cogvideox1.5-5b-i2v-lora-z3dp2").toString());
    String iteration = TRAINING.resolve("sat-z3/cogvideox1.5-5b-i2v-lora-z3dp2/300").toString();
    assertEquals(List.of(new RecipeFolder(RecipeFolder.Kind.SAT_ZERO3, iteration)), c.recipeFolders());
    assertEquals(List.of(iteration + "/z3_rank_00_model_states.pt", iteration + "/z3_rank_01_model_states.pt"), c.files());
    assertEquals(List.of(), c.torchFiles());
    assertEquals(TRAINING.resolve("sat-z3/cogvideox1.5-5b-i2v-lora-z3dp2").toString(), SatLayout.runFolder(c));
    SatLayoutException e = assertThrows(SatLayoutException.class, () -> SatLayout.withFp32Masters(c));
    assertTrue(e.getMessage().contains("keeps no optimizer state"), e.getMessage());
  }

  @Test
  void aZero3EngineSaveIsARecipeFolderWithItsOptimizerPartitions() throws IOException {
    SatCheckpoint c = SatLayout.resolve(TRAINING.resolve("deepspeed/z3-dp2-bf16-full").toString());
    String tag = TRAINING.resolve("deepspeed/z3-dp2-bf16-full/global_step3").toString();
    assertEquals(List.of(new RecipeFolder(RecipeFolder.Kind.DEEPSPEED_ZERO, tag)), c.recipeFolders());
    assertEquals(4, c.files().size());
    assertTrue(c.files().get(3).endsWith("bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt"), c.files().toString());
    assertEquals(c, SatLayout.withFp32Masters(c));
  }

  @Test
  void aZero2SaveIsItsModuleFileUnlessTheMastersAreAsked() throws IOException {
    SatCheckpoint c = SatLayout.resolve(TRAINING.resolve("deepspeed/z2-dp2-bf16-full").toString());
    String tag = TRAINING.resolve("deepspeed/z2-dp2-bf16-full/global_step3").toString();
    assertEquals(List.of(tag + "/mp_rank_00_model_states.pt"), c.files());
    assertEquals(List.of(), c.recipeFolders());
    SatCheckpoint masters = SatLayout.withFp32Masters(c);
    assertEquals(List.of(new RecipeFolder(RecipeFolder.Kind.DEEPSPEED_ZERO, tag)), masters.recipeFolders());
    assertEquals(List.of(tag + "/mp_rank_00_model_states.pt", tag + "/bf16_zero_pp_rank_0_mp_rank_00_optim_states.pt",
        tag + "/bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt"), masters.files());
  }

  @Test
  void mastersOfASaveWithoutOptimizerPartitionsAreAClearError() throws IOException {
    SatCheckpoint c = SatLayout.resolve(Fixtures.testdata().resolve("sat/cogvideox-2b-sft").toString());
    SatLayoutException e = assertThrows(SatLayoutException.class, () -> SatLayout.withFp32Masters(c));
    assertTrue(e.getMessage().contains("needs DeepSpeed ZeRO optimizer partitions"), e.getMessage());
  }
}
