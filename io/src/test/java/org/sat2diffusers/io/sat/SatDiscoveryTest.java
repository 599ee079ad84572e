package org.sat2diffusers.io.sat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.storage.Fixtures;

class SatDiscoveryTest {
  private static final Path SAT = Fixtures.testdata().resolve("sat");
  private static final Path STATES_500 = SAT.resolve("cogvideox-2b-sft/500/mp_rank_00_model_states.pt");

  @Test
  void findsTheFourFixtureRunsWithTheirIterations() throws IOException {
    List<SatRun> runs = SatDiscovery.discover(SAT.toString());

    assertEquals(
        List.of("cogvideox-2b-sft", "cogvideox-5b-i2v-release", "cogvideox-5b-lora", "cogvideox1.5-5b-i2v-lora"),
        runs.stream().map(SatRun::relativePath).toList());
    assertEquals(List.of(List.of("500", "1000"), List.of("1"), List.of("200"), List.of("300")),
        runs.stream().map(SatRun::iterations).toList());
    assertEquals(List.of(Optional.of("1000"), Optional.of("1"), Optional.of("200"), Optional.of("300")),
        runs.stream().map(SatRun::latest).toList());
    assertEquals(List.of(false, true, false, false), runs.stream().map(SatRun::released).toList());
    assertEquals(SAT.resolve("cogvideox-2b-sft").toString(), runs.get(0).path());
  }

  @Test
  void releasedRunCheckpointIsTransformerThenVae() throws IOException {
    SatRun release = SatDiscovery.discover(SAT.toString()).get(1);
    assertEquals(
        List.of(
            SAT.resolve("cogvideox-5b-i2v-release/transformer/1/mp_rank_00_model_states.pt").toString(),
            SAT.resolve("cogvideox-5b-i2v-release/vae/3d-vae.pt").toString()),
        release.checkpoint("1").files());
  }

  @Test
  void rootThatIsARunHasAnEmptyRelativePath() throws IOException {
    List<SatRun> runs = SatDiscovery.discover(SAT.resolve("cogvideox-5b-lora") + "/");
    assertEquals(1, runs.size());
    assertEquals("", runs.get(0).relativePath());
    assertEquals("cogvideox-5b-lora", runs.get(0).name());
  }

  @Test
  void emaIterationsAreDistinctAndOrderedAfterTheirStep(@TempDir Path root) throws IOException {
    Path run = root.resolve("team/sft-run");
    for (String iteration : List.of("1000-ema", "500", "1000")) {
      copyStates(run.resolve(iteration));
    }
    Files.writeString(run.resolve("latest"), "1000\n");

    SatRun found = SatDiscovery.discover(root.toString()).get(0);

    assertEquals("team/sft-run", found.relativePath());
    assertEquals(List.of("500", "1000", "1000-ema"), found.iterations());
    assertEquals(List.of("1000"), IterationSelection.latest().select(found));
    assertEquals(List.of("500", "1000", "1000-ema"), IterationSelection.all().select(found));
    assertEquals(List.of(run.resolve("1000-ema/mp_rank_00_model_states.pt").toString()),
        found.checkpoint("1000-ema").files());
  }

  @Test
  void runWithoutLatestTakesItsHighestNumericIteration(@TempDir Path root) throws IOException {
    for (String iteration : List.of("20", "100", "100-ema", "release")) {
      copyStates(root.resolve("run").resolve(iteration));
    }
    SatRun run = SatDiscovery.discover(root.toString()).get(0);

    assertEquals(Optional.empty(), run.latest());
    assertEquals(List.of("20", "100", "100-ema", "release"), run.iterations());
    assertEquals("100", run.latestIteration());
    assertEquals("100", SatLayout.resolve(root.resolve("run").toString()).iteration());
  }

  @Test
  void runWithNeitherLatestNorNumericIterationSaysSo(@TempDir Path root) throws IOException {
    copyStates(root.resolve("run/release"));
    SatRun run = SatDiscovery.discover(root.toString()).get(0);
    SatLayoutException e = assertThrows(SatLayoutException.class, run::latestIteration);
    assertTrue(e.getMessage().contains(run.path()) && e.getMessage().contains("release"), e.getMessage());
  }

  @Test
  void missingIterationNamesTheRunAndWhatExists() throws IOException {
    SatRun sft = SatDiscovery.discover(SAT.toString()).get(0);
    SatLayoutException e = assertThrows(SatLayoutException.class,
        () -> IterationSelection.parse("500,700,900").select(sft));
    assertEquals(sft.path() + " has no iteration 700, 900; iterations present: 500, 1000", e.getMessage());
  }

  @Test
  void iterationFolderAsRootHoldsNoRun(@TempDir Path root) throws IOException {
    copyStates(root);
    assertEquals(List.of(), SatDiscovery.discover(root.toString()));
    assertEquals(Optional.empty(), SatLayout.findRun(root.toString()));
  }

  @Test
  void folderOfRunsIsNotARunButSaysWhatItHolds() {
    SatLayoutException e = assertThrows(SatLayoutException.class, () -> SatLayout.findRun(SAT.toString()));
    assertTrue(e.getMessage().contains("4 SAT run(s)") && e.getMessage().contains("root"), e.getMessage());
  }

  @Test
  void iterationListsAreParsedAndChecked() {
    assertEquals("500,1000-ema", IterationSelection.parse(" 500, 1000-ema,500 ").toString());
    assertEquals(IterationSelection.all(), IterationSelection.parse("all"));
    for (String bad : List.of("", "500,", "../x", "latest,500")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IterationSelection.parse(bad));
      assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
    }
    assertFalse(IterationSelection.latest().equals(IterationSelection.all()));
  }

  private static void copyStates(Path iterationFolder) throws IOException {
    Files.createDirectories(iterationFolder);
    Files.copy(STATES_500, iterationFolder.resolve("mp_rank_00_model_states.pt"));
  }
}
