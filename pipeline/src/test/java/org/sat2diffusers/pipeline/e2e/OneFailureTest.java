package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * A run over a root where one checkpoint is broken: by default it is reported and the others are
 * converted; with --fail-fast the run stops on it.
 */
class OneFailureTest {
  @TempDir Path work;
  private Path root;

  @BeforeEach
  void rootWithOneBrokenRun() throws IOException {
    root = Files.createDirectories(work.resolve("runs"));
    TestPaths.copyTree(TestPaths.sat("cogvideox1.5-5b-i2v-lora"), root.resolve("good"));
    Path broken = TestPaths.copyTree(TestPaths.sat("cogvideox1.5-5b-i2v-lora"), root.resolve("broken"));
    Path pt = broken.resolve("300/mp_rank_00_model_states.pt");
    byte[] bytes = Files.readAllBytes(pt);
    Files.write(pt, Arrays.copyOf(bytes, bytes.length / 2)); // truncated: no zip directory
  }

  @Test
  void theBrokenOneIsReportedAndTheOthersAreConverted() throws IOException {
    Path out = work.resolve("out");
    CliRun run = CliRun.run("convert", "--source-root", root, "--output", out);
    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), run.err());
    assertTrue(run.err().contains("broken/300/mp_rank_00_model_states.pt"), run.err());
    assertTrue(Files.exists(out.resolve("good/300/_SUCCESS")), "the good checkpoint was not converted");
    assertFalse(Files.exists(out.resolve("broken/300/_SUCCESS")));
    assertEquals(List.of(), ExpectedTensors.mismatches(out.resolve("good/300"),
        TestPaths.expected("cogvideox1.5-5b-i2v-lora/300.alpha1.json")));
  }

  @Test
  void failFastStopsTheRun() {
    Path out = work.resolve("out");
    CliRun run = CliRun.run("convert", "--source-root", root, "--output", out, "--fail-fast");
    assertEquals(ExitCodes.FAILED, run.exitCode(), run.err());
    assertTrue(run.err().contains("--fail-fast") && run.err().contains("broken/300"), run.err());
    assertFalse(Files.exists(out.resolve("broken/300/_SUCCESS")));
  }
}
