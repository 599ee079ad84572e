package org.sat2diffusers.io.sat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
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

  /**
   * A shared tree with a link back to the root (a loop), a link to /, and a second link to a run
   * already found: each run is found once, under its own path, quickly, with a warning per link.
   */
  @Test
  void linkLoopsAndLinksToSearchedFoldersAreNotFollowed(@TempDir Path root) throws IOException {
    copyStates(root.resolve("team/run-a/100"));
    copyStates(root.resolve("team/run-b/200"));
    Files.createSymbolicLink(root.resolve("team/loop"), root);
    Files.createSymbolicLink(root.resolve("team/run-b/up"), Path.of("../.."));
    Files.createSymbolicLink(root.resolve("everything"), Path.of("/"));
    Files.createSymbolicLink(root.resolve("alias-of-a"), root.resolve("team/run-a"));
    Path elsewhere = Files.createDirectories(root.resolveSibling(root.getFileName() + "-elsewhere"));
    try {
      copyStates(elsewhere.resolve("run-c/300"));
      Files.createSymbolicLink(root.resolve("linked"), elsewhere);
      Files.createSymbolicLink(elsewhere.resolve("back"), root.resolve("team"));

      List<String> warnings = new ArrayList<>();
      long start = System.nanoTime();
      List<SatRun> runs = withWarnings(warnings, () -> SatDiscovery.discover(root.toString()));
      long millis = (System.nanoTime() - start) / 1_000_000;

      assertEquals(List.of("linked/run-c", "team/run-a", "team/run-b"), runs.stream().map(SatRun::relativePath).toList());
      assertEquals(List.of(List.of("300"), List.of("100"), List.of("200")), runs.stream().map(SatRun::iterations).toList());
      assertTrue(millis < 5_000, "discovery took " + millis + " ms");
      for (String link : List.of("team/loop", "team/run-b/up", "everything", "alias-of-a", "linked/back")) {
        assertEquals(1, warnings.stream().filter(w -> w.contains(root.resolve(link) + ":")).count(),
            link + " in " + warnings);
      }
    } finally {
      try (Stream<Path> walk = Files.walk(elsewhere)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  @Test
  void searchStopsAtTheDepthLimit(@TempDir Path root) throws IOException {
    copyStates(root.resolve("a/run/1"));        // rank file 3 folders down
    copyStates(root.resolve("a/b/c/d/run/2"));  // 6 folders down
    List<String> warnings = new ArrayList<>();

    assertEquals(List.of("a/run"), withWarnings(warnings, () -> SatDiscovery.discover(root.toString(), 3))
        .stream().map(SatRun::relativePath).toList());
    assertEquals(1, warnings.size(), warnings.toString());
    assertTrue(warnings.get(0).contains(root.resolve("a/b/c/d").toString()) && warnings.get(0).contains("--max-depth"),
        warnings.get(0));
    assertEquals(List.of("a/b/c/d/run", "a/run"), SatDiscovery.discover(root.toString(), 6)
        .stream().map(SatRun::relativePath).toList());
  }

  /** The warnings logged while {@code step} runs. */
  private static <T> T withWarnings(List<String> into, IoStep<T> step) throws IOException {
    Logger log = Logger.getLogger("sat2diffusers");
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord record) {
        if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
          into.add(record.getMessage());
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    log.addHandler(handler);
    try {
      return step.run();
    } finally {
      log.removeHandler(handler);
    }
  }

  private interface IoStep<T> {
    T run() throws IOException;
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
