package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.pipeline.cli.ExitCodes;

/**
 * Every file of testdata/bad/ is refused: a non-zero exit, one error line naming the file and saying
 * more than its name, no Java exception shown, and nothing that looks converted.
 */
class BadInputsTest {
  private static final Path PWNED = Path.of("/tmp/sat2diffusers-pwned");

  @TempDir Path work;

  static List<Path> all() {
    return BadCorpus.all();
  }

  static List<Path> safetensors() {
    return BadCorpus.safetensors();
  }

  @Test
  void theCorpusHoldsAtLeastThirtyFiles() {
    assertTrue(BadCorpus.all().size() >= 30, "only " + BadCorpus.all().size() + " files in " + BadCorpus.folder());
  }

  @ParameterizedTest(name = "inspect {0}")
  @MethodSource("all")
  void inspectRefusesWithOneClearLine(Path file) {
    CliRun run = CliRun.run("inspect", file).assertNoStackTrace();
    assertNotEquals(0, run.exitCode(), "inspect accepted " + file + ":\n" + run.out());
    assertOneErrorLineNaming(run, file);
  }

  /** All corpus checkpoints in one run: each fails on its own, none stops the others, nothing runs their code. */
  @Test
  void convertRefusesEveryCheckpointAndCommitsNothing() throws IOException {
    Files.deleteIfExists(PWNED);
    Path out = work.resolve("out");
    List<Object> args = new ArrayList<>(List.of("convert", "--output", out));
    for (Path file : BadCorpus.checkpoints()) {
      args.add("--source");
      args.add(file);
    }
    CliRun run = CliRun.run(args.toArray()).assertNoStackTrace();

    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), run.err());
    for (Path file : BadCorpus.checkpoints()) {
      assertOneErrorLineNaming(run, file);
    }
    assertEquals(List.of(), OutputFolders.committedFiles(out));
    assertTrue(!Files.exists(PWNED), "a hostile pickle ran code: " + PWNED + " exists");
  }

  /** A converted folder whose weight file is replaced by a broken one fails verify, naming that file. */
  @ParameterizedTest(name = "verify with {0}")
  @MethodSource("safetensors")
  void verifyRefusesABrokenWeightFile(Path bad) throws IOException {
    Path out = ConvertedCopies.converted(work);
    Path shard = out.resolve("transformer/diffusion_pytorch_model.safetensors");
    Files.copy(bad, shard, StandardCopyOption.REPLACE_EXISTING);

    CliRun run = CliRun.run("verify", out).assertNoStackTrace();
    assertEquals(ExitCodes.FAILED, run.exitCode(), run.out() + run.err());
    assertTrue(run.err().lines().anyMatch(l -> l.startsWith("error: ") && l.contains(shard.toString())),
        "no error line names " + shard + ":\n" + run.err());
  }

  /** Exactly one line of stderr names the file, and it says what is wrong beyond the name. */
  private static void assertOneErrorLineNaming(CliRun run, Path file) {
    String name = file.toString();
    List<String> lines = run.err().lines()
        .filter(l -> l.contains(name + ":") || l.contains(name + " ("))
        .filter(l -> l.contains("error")).toList();
    assertEquals(1, lines.size(), "error lines naming " + name + ":\n" + run.err());
    String problem = lines.get(0).substring(lines.get(0).indexOf(name) + name.length());
    assertTrue(problem.length() > 10, "the error says nothing beyond the file name: " + lines.get(0));
  }
}
