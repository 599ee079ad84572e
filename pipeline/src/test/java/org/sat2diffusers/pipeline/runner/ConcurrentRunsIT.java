package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.pipeline.verify.ConvertedFolderCheck;

/**
 * Issue 18: two conversions of the same checkpoints into the same outputs started at once (an
 * overlapping nightly run), 20 times: the output lock lets one write each output; the other waits
 * and finds it up to date, or, told not to wait, gives that checkpoint up (exit code 1). Every
 * output ends committed, verifies, and equals a clean conversion byte for byte.
 */
class ConcurrentRunsIT {
  private static final Duration TIMEOUT = Duration.ofMinutes(3);
  private static final int ROUNDS = 20;

  @Test
  void twoRunsAtOnceNeverMixTheirFiles(@TempDir Path work) throws Exception {
    Path root = work.resolve("runs");
    TestPaths.copyTree(TestPaths.sat("cogvideox-2b-sft"), root.resolve("sft"));
    TestPaths.copyTree(TestPaths.sat("cogvideox1.5-5b-i2v-lora"), root.resolve("v15-lora"));
    Path reference = work.resolve("reference");
    InProcessCli.convert(List.of("--source-root", root.toString(), "--iterations", "all"), reference);
    List<String> outputs = List.of("sft/500", "sft/1000", "v15-lora/300");

    for (int round = 0; round < ROUNDS; round++) {
      Path out = work.resolve("out-" + round);
      boolean wait = round % 2 == 0; // odd rounds: the second run gives busy outputs up at once
      List<ChildProcess> runs = new ArrayList<>();
      try {
        for (String name : List.of("a", "b")) {
          runs.add(ChildProcess.start("round-" + round + "-" + name, convert(root, out, wait), Map.of(), work));
        }
        for (ChildProcess run : runs) {
          int exit = run.awaitExit(TIMEOUT);
          assertTrue(wait ? exit == 0 : exit == 0 || exit == 1, "round " + round + ": exit " + exit + "\n" + run.logTail());
        }
      } finally {
        for (ChildProcess run : runs) {
          run.close();
        }
      }
      for (String output : outputs) {
        assertEquals(List.of(), ConvertedFolderCheck.run(out.resolve(output).toString(), ConvertedFolderCheck.DEFAULT_FILE_TIMEOUT).problems(),
            "round " + round + ": " + output);
        OutputTrees.assertSameOutput(reference.resolve(output), out.resolve(output));
        assertTrue(Files.notExists(out.resolve(output).resolve(".sat2diffusers-lock")), "lock left in " + output);
      }
    }
  }

  private static List<String> convert(Path root, Path out, boolean wait) {
    return List.of(ChildProcess.java(), "-Xmx512m", "-XX:TieredStopAtLevel=1", "-jar", ExecutableJar.path().toString(),
        "convert", "--source-root", root.toString(), "--iterations", "all", "--output", out.toString(),
        "--beam-option", "outputLockWaitSeconds=" + (wait ? 120 : 0));
  }
}
