package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.pipeline.verify.ConvertedFolderCheck;

/**
 * Issue 18: a conversion replacing its outputs ({@code --overwrite}) killed with SIGKILL at 20
 * random moments, each followed by a plain re-run. Right after each kill every output either
 * verifies or has no {@code _SUCCESS} (never an empty or half-written marker or report); after
 * the re-run every output is byte-identical to an uninterrupted conversion's, with no staging
 * folder and no lock left (the killed run's lock is taken over: its process is gone).
 */
class KilledRunsIT {
  private static final Duration TIMEOUT = Duration.ofMinutes(3);
  private static final int KILLS = 20;
  private static final List<String> OUTPUTS = List.of("sft/500", "sft/1000", "v15-lora/300");

  @Test
  void everyReRunAfterAKillEqualsAnUninterruptedRun(@TempDir Path work) throws Exception {
    Path root = work.resolve("runs");
    TestPaths.copyTree(TestPaths.sat("cogvideox-2b-sft"), root.resolve("sft"));
    TestPaths.copyTree(TestPaths.sat("cogvideox1.5-5b-i2v-lora"), root.resolve("v15-lora"));
    Path reference = work.resolve("reference");
    InProcessCli.convert(List.of("--source-root", root.toString(), "--iterations", "all"), reference);

    Path out = work.resolve("out");
    long start = System.nanoTime();
    try (ChildProcess whole = ChildProcess.start("uninterrupted", convert(root, out), Map.of(), work)) {
      assertEquals(0, whole.awaitExit(TIMEOUT), whole.logTail());
    }
    long wholeMillis = (System.nanoTime() - start) / 1_000_000;
    long seed = System.nanoTime();
    Random random = new Random(seed);
    int interrupted = 0;
    for (int kill = 0; kill < KILLS; kill++) {
      long delay = (long) (wholeMillis * (0.15 + 0.9 * random.nextDouble()));
      String at = "kill " + kill + " after " + delay + " ms of ~" + wholeMillis + " (seed " + seed + ")";
      try (ChildProcess run = ChildProcess.start("killed-" + kill, convert(root, out), Map.of(), work)) {
        Thread.sleep(delay);
        if (run.isAlive()) {
          interrupted++;
        }
        ProcessHandle.of(run.pid()).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL
        run.awaitExit(TIMEOUT);
      }
      for (String output : OUTPUTS) {
        Path dir = out.resolve(output);
        if (Files.exists(dir.resolve("_SUCCESS"))) {
          assertEquals(List.of(), ConvertedFolderCheck.run(dir.toString(), ConvertedFolderCheck.DEFAULT_FILE_TIMEOUT).problems(), at + ": " + output);
        }
      }
      InProcessCli.convert(List.of("--source-root", root.toString(), "--iterations", "all"), out);
      for (String output : OUTPUTS) {
        OutputTrees.assertSameOutput(reference.resolve(output), out.resolve(output));
      }
      assertEquals(List.of(), leftovers(out), at + ": left behind after the re-run");
    }
    assertTrue(interrupted >= KILLS / 2, "only " + interrupted + " of " + KILLS + " kills hit a running conversion");
  }

  private static List<String> convert(Path root, Path out) {
    return List.of(ChildProcess.java(), "-Xmx512m", "-XX:TieredStopAtLevel=1", "-jar", ExecutableJar.path().toString(),
        "convert", "--source-root", root.toString(), "--iterations", "all", "--output", out.toString(), "--overwrite");
  }

  /** Staging folders, lock files and temporary files anywhere below {@code out}. */
  private static List<String> leftovers(Path out) throws IOException {
    try (Stream<Path> walk = Files.walk(out)) {
      return walk.map(p -> out.relativize(p).toString())
          .filter(p -> p.contains(".sat2diffusers-staging") || p.contains(".sat2diffusers-lock") || p.contains(".tmp-"))
          .sorted().toList();
    }
  }
}
