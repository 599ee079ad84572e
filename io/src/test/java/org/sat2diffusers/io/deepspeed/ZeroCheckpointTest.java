package org.sat2diffusers.io.deepspeed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.sat2diffusers.io.deepspeed.ZeroCheckpointException.Problem;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.Fixtures;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.RecipeDigests;
import org.sat2diffusers.io.torch.TensorRanges;
import org.sat2diffusers.io.torch.TensorRecipe;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.io.torch.TorchPickle;

class ZeroCheckpointTest {
  private static final Path TRAINING = Fixtures.testdata().resolve("training");

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("z2-dp2-bf16-full", 2, 2),
        Arguments.of("z2-dp4-fp16-full-ema", 2, 4),
        Arguments.of("z2-dp2-bf16-lora", 2, 2),
        Arguments.of("z2-dp6-bf16-lora", 2, 6),
        Arguments.of("z3-dp2-bf16-full", 3, 2),
        Arguments.of("z3-dp2-fp16-lora", 3, 2),
        Arguments.of("z3-dp3-bf16-lora", 3, 3));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void fp32MastersAreWhatZeroToFp32Gives(String name, int stage, int worldSize) throws Exception {
    ZeroCheckpoint checkpoint = ZeroCheckpoint.open(TRAINING.resolve("deepspeed").resolve(name).toString());
    assertEquals(stage, checkpoint.stage());
    assertEquals(worldSize, checkpoint.worldSize());
    assertEquals("0.16.5", checkpoint.dsVersion());
    Map<String, String> expected = RecipeDigests.expected(TRAINING.resolve("expected/deepspeed/" + name + ".zero_to_fp32.json"));
    assertEquals(expected, RecipeDigests.actual(checkpoint.fp32Master()));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void moduleIsThe16BitModuleUnderZero2AndRefusedUnderZero3(String name, int stage, int worldSize) throws Exception {
    ZeroCheckpoint checkpoint = ZeroCheckpoint.open(TRAINING.resolve("deepspeed").resolve(name).toString());
    if (stage == 3) {
      ZeroCheckpointException e = assertThrows(ZeroCheckpointException.class, checkpoint::module);
      assertEquals(Problem.MODULE_IS_PLACEHOLDER, e.problem());
      assertTrue(e.getMessage().contains("fp32-master"), e.getMessage());
      assertTrue(e.file().endsWith("zero_pp_rank_0_mp_rank_00_model_states.pt"), e.file());
      return;
    }
    Map<String, String> expected = RecipeDigests.expected(TRAINING.resolve("expected/deepspeed/" + name + ".module.json"));
    assertEquals(expected, RecipeDigests.actual(checkpoint.module()));
  }

  @Test
  void aParameterSpanningTwoPartitionsIsTwoRanges() throws Exception {
    // dp = 6, one group of 1,024 elements: partitions of 172, so parameters cross partition borders
    ZeroCheckpoint checkpoint = ZeroCheckpoint.open(TRAINING.resolve("deepspeed/z2-dp6-bf16-lora").toString());
    List<TensorRecipe> spanning = checkpoint.fp32Master().stream().filter(r -> r.files().size() == 2).toList();
    assertTrue(!spanning.isEmpty());
    for (TensorRecipe recipe : spanning) {
      assertEquals(2, recipe.ranges().size(), recipe.key());
    }
  }

  static Stream<Arguments> broken() {
    return Stream.of(
        Arguments.of("z2-missing-rank", Problem.MISSING_FILE, "bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt"),
        Arguments.of("z2-truncated-rank", Problem.UNREADABLE_FILE, "bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt"),
        Arguments.of("z2-other-world-size", Problem.WORLD_SIZE_MISMATCH, "bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt"),
        Arguments.of("z2-other-run", Problem.OTHER_RUN, "bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt"),
        Arguments.of("z3-missing-rank", Problem.MISSING_FILE, "bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt"),
        Arguments.of("z3-lora-missing-model-states", Problem.MISSING_FILE, "zero_pp_rank_1_mp_rank_00_model_states.pt"));
  }

  @ParameterizedTest
  @MethodSource("broken")
  void aBrokenSetIsOneErrorNamingTheFile(String name, Problem problem, String file) {
    String folder = TRAINING.resolve("broken").resolve(name).toString();
    ZeroCheckpointException e = assertThrows(ZeroCheckpointException.class, () -> ZeroCheckpoint.open(folder).fp32Master());
    assertEquals(problem, e.problem(), e.getMessage());
    assertEquals(TRAINING.resolve("broken").resolve(name).resolve("global_step3").resolve(file).toAbsolutePath().toString(),
        e.file(), e.getMessage());
    assertTrue(e.getMessage().startsWith(e.file() + ": "), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"deepspeed/z2-dp2-bf16-full", "deepspeed/z2-dp2-bf16-full/global_step3"})
  void theFolderOrItsTagFolderOpenAlike(String folder) throws Exception {
    ZeroCheckpoint checkpoint = ZeroCheckpoint.open(TRAINING.resolve(folder).toString());
    assertTrue(checkpoint.folder().endsWith("global_step3"));
    assertTrue(Files.isDirectory(Path.of(checkpoint.folder())));
  }

  @Test
  void adamMomentsAndTheEmaShadowAreNeverRead() throws Exception {
    // SAT's FusedEmaAdam keeps exp_avg, exp_avg_sq and shadow per partition: all fp32, all the partition's size
    ZeroCheckpoint checkpoint = ZeroCheckpoint.open(TRAINING.resolve("deepspeed/z2-dp4-fp16-full-ema").toString());
    List<ByteRange> optimizerState = new ArrayList<>();
    for (String file : checkpoint.files()) {
      if (!file.endsWith("_optim_states.pt")) {
        continue;
      }
      try (RandomAccessInput in = RandomAccessInputs.open(file)) {
        TorchPickle pickle = new TorchCheckpointReader().read(in);
        Map<?, ?> osd = (Map<?, ?>) ((Map<?, ?>) pickle.root()).get("optimizer_state_dict");
        Map<?, ?> state = (Map<?, ?>) ((Map<?, ?>) osd.get("base_optimizer_state")).get("state");
        for (Object paramState : state.values()) {
          for (String key : List.of("exp_avg", "exp_avg_sq", "shadow")) {
            Object tensor = ((Map<?, ?>) paramState).get(key);
            assertTrue(TorchPickle.isTensor(tensor), key);
            optimizerState.addAll(TensorRanges.ranges(file, pickle.tensor(key, tensor)));
          }
        }
      }
    }
    assertEquals(3 * 4 * 2, optimizerState.size()); // 3 tensors x 4 ranks x 2 groups
    for (TensorRecipe recipe : checkpoint.fp32Master()) {
      for (ByteRange range : recipe.ranges()) {
        for (ByteRange moment : optimizerState) {
          boolean overlaps = range.file().equals(moment.file()) && range.offset() < moment.end() && moment.offset() < range.end();
          assertTrue(!overlaps, recipe.key() + " reads " + range + ", optimizer state at " + moment);
        }
      }
    }
  }
}
