package org.sat2diffusers.io.deepspeed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.io.deepspeed.ZeroCheckpointException.Problem;
import org.sat2diffusers.io.storage.Fixtures;
import org.sat2diffusers.io.torch.RecipeDigests;

class SatZero3CheckpointTest {
  private static final Path TRAINING = Fixtures.testdata().resolve("training");

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("cogvideox1.5-5b-i2v-lora-z3dp2/300", "cogvideox1.5-5b-i2v-lora-z3dp2"),
        Arguments.of("cogvideox-5b-i2v-release-z3dp3/transformer/1", "cogvideox-5b-i2v-release-z3dp3"));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void consolidatesToTheFixtureItCameFrom(String iteration, String expected) throws Exception {
    assertTrue(SatZero3Checkpoint.isZero3Iteration(TRAINING.resolve("sat-z3").resolve(iteration).toString()));
    assertEquals(
        RecipeDigests.expected(TRAINING.resolve("expected/sat-z3/" + expected + ".module.json")),
        RecipeDigests.actual(SatZero3Checkpoint.consolidate(TRAINING.resolve("sat-z3").resolve(iteration).toString())));
  }

  static Stream<Arguments> broken() {
    return Stream.of(
        Arguments.of("sat-z3-missing-rank", Problem.MISSING_FILE, "z3_rank_01_model_states.pt"),
        Arguments.of("sat-z3-truncated-rank", Problem.UNREADABLE_FILE, "z3_rank_02_model_states.pt"));
  }

  @ParameterizedTest
  @MethodSource("broken")
  void aBrokenSetIsOneErrorNamingTheFile(String name, Problem problem, String file) {
    Path iteration = TRAINING.resolve("broken").resolve(name).resolve("transformer/1");
    ZeroCheckpointException e =
        assertThrows(ZeroCheckpointException.class, () -> SatZero3Checkpoint.consolidate(iteration.toString()));
    assertEquals(problem, e.problem(), e.getMessage());
    assertEquals(iteration.resolve(file).toAbsolutePath().toString(), e.file(), e.getMessage());
  }
}
