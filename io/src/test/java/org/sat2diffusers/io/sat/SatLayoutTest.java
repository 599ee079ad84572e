package org.sat2diffusers.io.sat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.storage.Fixtures;

class SatLayoutTest {
  private static String fixture(String relative) {
    return Fixtures.testdata().resolve("sat/" + relative).toString();
  }

  @Test
  void runFolderFollowsLatest() throws IOException {
    SatCheckpoint c = SatLayout.resolve(fixture("cogvideox-2b-sft"));
    assertEquals("1000", c.iteration());
    assertEquals(List.of(fixture("cogvideox-2b-sft/1000/mp_rank_00_model_states.pt")), c.files());
  }

  @Test
  void iterationFolderAndFileResolveToThatIteration() throws IOException {
    assertEquals(
        List.of(fixture("cogvideox-2b-sft/500/mp_rank_00_model_states.pt")),
        SatLayout.resolve(fixture("cogvideox-2b-sft/500/")).files());
    SatCheckpoint file = SatLayout.resolve(fixture("cogvideox-2b-sft/500/mp_rank_00_model_states.pt"));
    assertEquals(List.of(fixture("cogvideox-2b-sft/500/mp_rank_00_model_states.pt")), file.files());
    assertEquals("500", file.iteration());
    assertEquals("cogvideox-2b-sft", SatLayout.runName(file));
  }

  @Test
  void releasedLayoutHasTransformerThenVae() throws IOException {
    SatCheckpoint c = SatLayout.resolve(fixture("cogvideox-5b-i2v-release"));
    assertEquals("1", c.iteration());
    assertEquals(
        List.of(
            fixture("cogvideox-5b-i2v-release/transformer/1/mp_rank_00_model_states.pt"),
            fixture("cogvideox-5b-i2v-release/vae/3d-vae.pt")),
        c.files());
  }

  @Test
  void unknownFolderNamesWhatWasExpected(@TempDir Path dir) {
    SatLayoutException e = assertThrows(SatLayoutException.class, () -> SatLayout.resolve(dir.toString()));
    assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("latest"), e.getMessage());
  }

  @Test
  void latestPointingNowhereIsReported(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("latest"), "42\n");
    SatLayoutException e = assertThrows(SatLayoutException.class, () -> SatLayout.resolve(dir.toString()));
    assertTrue(e.getMessage().contains("42") && e.getMessage().contains("mp_rank_00"), e.getMessage());
  }

  @Test
  void modelParallelRanksComeInRankOrder(@TempDir Path dir) throws IOException {
    for (String rank : List.of("02", "00", "10", "01", "03", "04", "05", "06", "07", "08", "09")) {
      Files.writeString(dir.resolve("mp_rank_" + rank + "_model_states.pt"), "x");
    }
    List<String> files = SatLayout.resolve(dir.toString()).files();
    assertEquals(11, files.size());
    for (int i = 0; i < files.size(); i++) {
      assertEquals(dir.resolve(String.format("mp_rank_%02d_model_states.pt", i)).toString(), files.get(i));
    }
  }

  @Test
  void oneRankFileStandsForAllRanksOfItsIteration(@TempDir Path dir) throws IOException {
    Path iteration = Files.createDirectories(dir.resolve("run/300"));
    Files.writeString(iteration.resolve("mp_rank_00_model_states.pt"), "x");
    Files.writeString(iteration.resolve("mp_rank_01_model_states.pt"), "x");
    SatCheckpoint c = SatLayout.resolve(iteration.resolve("mp_rank_01_model_states.pt").toString());
    assertEquals("300", c.iteration());
    assertEquals(List.of(iteration.resolve("mp_rank_00_model_states.pt").toString(),
        iteration.resolve("mp_rank_01_model_states.pt").toString()), c.files());
  }

  @Test
  void aMissingRankIsNamed(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("mp_rank_00_model_states.pt"), "x");
    Files.writeString(dir.resolve("mp_rank_02_model_states.pt"), "x");
    SatLayoutException e = assertThrows(SatLayoutException.class, () -> SatLayout.resolve(dir.toString()));
    assertTrue(e.getMessage().contains("rank 01 is missing") && e.getMessage().contains(dir.toString()), e.getMessage());
  }
}
