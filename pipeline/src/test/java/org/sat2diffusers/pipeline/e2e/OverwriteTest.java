package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 9 with the commit marker: a committed output is skipped as up to date until its sources
 * change (a touched source file re-converts that checkpoint only) or {@code --overwrite} forces it.
 * Works on copies of a fixture, so touching never changes testdata/.
 */
class OverwriteTest {
  private static final FixtureConversion FIXTURE = FixtureConversion.V15_I2V_LORA;

  @TempDir static Path work;
  private static Path sourceA;
  private static Path sourceB;
  private static Path outA;
  private static Path outB;

  /**
   * Two copies of the fixture, each converted once. Each test changes one copy's output (A by
   * touching, B by overwriting) and needs the other only up to date, so they run in either order.
   */
  @BeforeAll
  static void convertTwoCopies() throws IOException {
    sourceA = TestPaths.copyTree(TestPaths.sat(FIXTURE.source), work.resolve("a"));
    sourceB = TestPaths.copyTree(TestPaths.sat(FIXTURE.source), work.resolve("b"));
    outA = work.resolve("out-a");
    outB = work.resolve("out-b");
    convert(sourceA, outA).assertSucceeded();
    convert(sourceB, outB).assertSucceeded();
  }

  @Test
  void overwriteConvertsAnUpToDateOutputAgain() throws IOException {
    String committed = OutputFolders.committedAt(outB);
    CliRun again = convert(sourceB, outB, "--overwrite").assertSucceeded();
    assertTrue(again.out().contains("1 of 1 checkpoint(s) converted"), again.out());
    assertNotEquals(committed, OutputFolders.committedAt(outB), "_SUCCESS committed_at after --overwrite");
    assertConforms(outB);
  }

  @Test
  void touchingASourceFileReconvertsOnlyItsCheckpoint() throws IOException {
    String committedA = OutputFolders.committedAt(outA);
    String committedB = OutputFolders.committedAt(outB);
    Path touched = sourceA.resolve(FIXTURE.iteration).resolve("mp_rank_00_model_states.pt");
    FileTime later = FileTime.fromMillis(Files.getLastModifiedTime(touched).toMillis() + 60_000);
    Files.setLastModifiedTime(touched, later);

    CliRun runA = convert(sourceA, outA).assertSucceeded();
    CliRun runB = convert(sourceB, outB).assertSucceeded();

    assertTrue(runA.out().contains("1 of 1 checkpoint(s) converted"), "the touched copy:\n" + runA.out());
    assertNotEquals(committedA, OutputFolders.committedAt(outA), "_SUCCESS of the touched copy");
    assertEquals(later.toMillis(),
        TestData.json(outA.resolve("_SUCCESS")).path("sources").path(0).path("last_modified_ms").asLong(),
        "the new marker records the touched file's time");
    assertConforms(outA);
    assertTrue(runB.out().contains("up to date"), "the untouched copy:\n" + runB.out());
    assertEquals(committedB, OutputFolders.committedAt(outB), "_SUCCESS of the untouched copy");
  }

  private static CliRun convert(Path source, Path output, String... options) {
    List<Object> args = new ArrayList<>(List.of("convert", "--source", source, "--output", output));
    args.addAll(List.of(options));
    return CliRun.run(args.toArray());
  }

  private static void assertConforms(Path output) throws IOException {
    for (Path manifest : FIXTURE.manifests()) {
      assertEquals(List.of(), ExpectedTensors.mismatches(output, manifest), output + " vs " + manifest);
    }
  }
}
