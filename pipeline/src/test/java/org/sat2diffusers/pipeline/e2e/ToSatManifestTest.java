package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 16, many Diffusers folders in one run: a {@code to-sat --manifest} of {@code kind: to-sat} jobs
 * writes, on the DirectRunner and on Spark local, every SAT run byte for byte as the single-folder
 * command does; a bad entry is refused with its line before anything is written; one folder that
 * cannot be read does not stop the others.
 */
class ToSatManifestTest {
  /** Two jobs with different options; paths relative to the manifest's folder. */
  private static final String MANIFEST = """
      - kind: to-sat
        source: diffusers/release
        output: runs/release
        iteration: 3
      - kind: to-sat
        source: diffusers/v15
        output: runs/v15
        dtype: bf16
        model: cogvideox1.5-5b-i2v
      """;

  @TempDir static Path shared;

  /** The Diffusers folders, converted from the fixtures, and what the single-folder command writes of each. */
  @BeforeAll
  static void convertFixturesAndEachFolderAlone() {
    CliRun.run(FixtureConversion.I2V_RELEASE.arguments(shared.resolve("diffusers/release"))).assertSucceeded();
    CliRun.run(FixtureConversion.V15_I2V_LORA.arguments(shared.resolve("diffusers/v15"))).assertSucceeded();
    CliRun.run("to-sat", "--source", shared.resolve("diffusers/release"), "--output", shared.resolve("alone/release"),
        "--iteration", "3").assertSucceeded();
    CliRun.run("to-sat", "--source", shared.resolve("diffusers/v15"), "--output", shared.resolve("alone/v15"),
        "--dtype", "bf16", "--model", "cogvideox1.5-5b-i2v").assertSucceeded();
  }

  @ParameterizedTest
  @ValueSource(strings = {"direct", "spark"})
  void aManifestWritesWhatTheSingleFolderCommandWrites(String runner, @TempDir Path work) throws IOException {
    Path manifest = manifestBeside(work, MANIFEST);
    List<String> args = runner.equals("spark")
        ? List.of("to-sat", "--manifest", manifest.toString(), "--runner", "spark", "--spark-master", "local[2]")
        : List.of("to-sat", "--manifest", manifest.toString());
    CliRun run = CliRun.run(args.toArray()).assertSucceeded().assertNoStackTrace();
    for (String name : List.of("release", "v15")) {
      assertSameTree(shared.resolve("alone").resolve(name), work.resolve("runs").resolve(name));
      assertTrue(run.out().contains("wrote " + work.resolve("runs").resolve(name)), run.out());
    }
    assertEquals("3", Files.readString(work.resolve("runs/release/latest")));
  }

  @Test
  void aBadEntryIsReportedWithItsLineAndNothingIsWritten(@TempDir Path work) throws IOException {
    Path manifest = manifestBeside(work, """
        - kind: to-sat
          source: diffusers/release
          output: runs/release
        - kind: to-sat
          source: diffusers/v15
          output: runs/v15
          dtype: bf17
          lora-rank: 4
        - source: diffusers/v15
          output: runs/again
        - kind: convert
          source: diffusers/v15
          output: runs/release
        """);
    CliRun run = CliRun.run("to-sat", "--manifest", manifest).assertNoStackTrace();
    assertEquals(2, run.exitCode(), run.err());
    for (String problem : List.of(
        "line 7, dtype: unknown dtype 'bf17'",
        "line 8: unknown field 'lora-rank'",
        "line 9: job has no kind",
        "line 11, kind: a convert job: run it with convert --manifest")) {
      assertTrue(run.err().contains(problem), "missing '" + problem + "' in:\n" + run.err());
    }
    assertFalse(Files.exists(work.resolve("runs")), "an invalid manifest wrote something");
  }

  @Test
  void aJobOptionBesideAManifestNamesTheField(@TempDir Path work) throws IOException {
    Path manifest = manifestBeside(work, MANIFEST);
    CliRun run = CliRun.run("to-sat", "--manifest", manifest, "--dtype", "bf16").assertNoStackTrace();
    assertEquals(2, run.exitCode(), run.err());
    assertTrue(run.err().contains("--dtype is a field of each job in a --manifest (dtype)"), run.err());
    assertFalse(Files.exists(work.resolve("runs")), "a refused run wrote something");
  }

  @Test
  void convertRefusesAToSatJobNamingTheCommand(@TempDir Path work) throws IOException {
    Path manifest = manifestBeside(work, MANIFEST);
    CliRun run = CliRun.run("convert", "--manifest", manifest).assertNoStackTrace();
    assertEquals(2, run.exitCode(), run.err());
    assertTrue(run.err().contains("line 1, kind: a to-sat job: run it with to-sat --manifest"), run.err());
  }

  @Test
  void anOutputInsideAnotherJobsSourceIsRefused(@TempDir Path work) throws IOException {
    Path manifest = manifestBeside(work, MANIFEST.replace("output: runs/v15", "output: diffusers/release/sat"));
    CliRun run = CliRun.run("to-sat", "--manifest", manifest).assertNoStackTrace();
    assertEquals(2, run.exitCode(), run.err());
    assertTrue(run.err().contains("output folder " + work.resolve("diffusers/release/sat") + " is inside source "
        + work.resolve("diffusers/release")), run.err());
    assertFalse(Files.exists(work.resolve("runs")), "a refused run wrote something");
  }

  @Test
  void aFolderThatCannotBeReadDoesNotStopTheOthers(@TempDir Path work) throws IOException {
    Path manifest = manifestBeside(work, MANIFEST.replace("source: diffusers/v15", "source: diffusers/empty"));
    Files.createDirectories(work.resolve("diffusers/empty"));
    CliRun run = CliRun.run("to-sat", "--manifest", manifest).assertNoStackTrace();
    assertEquals(3, run.exitCode(), run.err());
    assertTrue(run.err().contains("error: " + work.resolve("diffusers/empty") + ": "), run.err());
    assertSameTree(shared.resolve("alone/release"), work.resolve("runs/release"));
    assertFalse(Files.exists(work.resolve("runs/v15/latest")), "the unreadable folder's run has a latest");
  }

  /** The manifest in {@code work}, beside a copy of the Diffusers folders (its paths are relative). */
  private static Path manifestBeside(Path work, String text) throws IOException {
    for (String name : List.of("release", "v15")) {
      TestPaths.copyTree(shared.resolve("diffusers").resolve(name), work.resolve("diffusers").resolve(name));
    }
    return Files.writeString(work.resolve("jobs.yaml"), text);
  }

  /** Same files with the same bytes; the report's source paths differ as the copies do. */
  private static void assertSameTree(Path expected, Path actual) throws IOException {
    Map<String, String> a = TreeSnapshot.of(expected);
    Map<String, String> b = TreeSnapshot.of(actual);
    assertEquals(a.keySet(), b.keySet(), "files of " + actual);
    assertTrue(a.keySet().stream().anyMatch(f -> f.endsWith("mp_rank_00_model_states.pt")), "no checkpoint in " + expected);
    for (String file : a.keySet()) {
      if (a.get(file).equals("dir")) {
        continue;
      }
      if (file.endsWith("to_sat_report.json")) {
        String source = actual.getParent().getParent().resolve("diffusers").toString();
        assertEquals(Files.readString(expected.resolve(file)).replace(shared.resolve("diffusers").toString(), source),
            Files.readString(actual.resolve(file)), file);
      } else {
        assertArrayEquals(Files.readAllBytes(expected.resolve(file)), Files.readAllBytes(actual.resolve(file)), file);
      }
    }
  }
}
