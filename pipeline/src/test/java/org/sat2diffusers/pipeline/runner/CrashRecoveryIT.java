package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * A run killed in the middle (SIGKILL, at several moments) and started again: every output that has
 * a commit marker is complete and byte-identical to a clean conversion's, whatever the moment, and
 * the run after the kills finishes every output.
 */
class CrashRecoveryIT {
  private static final Duration TIMEOUT = Duration.ofMinutes(3);
  private static final long[] KILL_AFTER_MILLIS = {2_500, 4_000, 5_500, 7_000};

  @Test
  void killedRunsNeverLeaveAMarkerOnAnIncompleteOutputAndTheNextRunFinishesAll(@TempDir Path work) throws Exception {
    Path root = manyRuns(work.resolve("runs"));
    Path reference = work.resolve("reference");
    InProcessCli.convert(List.of("--source-root", root.toString(), "--iterations", "all"), reference);
    List<String> outputs = committedOutputs(reference);
    assertTrue(outputs.size() >= 8, "the reference run committed only " + outputs);

    Path out = work.resolve("out");
    int interrupted = 0;
    for (long delay : KILL_AFTER_MILLIS) {
      try (ChildProcess run = ChildProcess.start("killed-" + delay, convert(root, out), Map.of(), work)) {
        Thread.sleep(delay);
        if (run.isAlive()) {
          interrupted++;
        }
        ProcessHandle.of(run.pid()).ifPresent(ProcessHandle::destroyForcibly);
      }
      for (String committed : committedOutputs(out)) { // a marker means complete, at any moment of a kill
        OutputTrees.assertSameOutputOfAKilledRun(reference.resolve(committed), out.resolve(committed));
      }
    }
    assertTrue(interrupted > 0, "every run finished before it could be killed: the test proved nothing");

    try (ChildProcess last = ChildProcess.start("after-kills", convert(root, out), Map.of(), work)) {
      assertEquals(0, last.awaitExit(TIMEOUT), last.logTail());
    }
    assertEquals(outputs, committedOutputs(out));
    for (String committed : outputs) {
      OutputTrees.assertSameOutput(reference.resolve(committed), out.resolve(committed));
    }
  }

  private static List<String> convert(Path root, Path out) {
    return List.of(ChildProcess.java(), "-Xmx512m", "-jar", ExecutableJar.path().toString(), "convert",
        "--source-root", root.toString(), "--iterations", "all", "--output", out.toString());
  }

  /** Copies of the fixture runs (four of the 2B fine-tune, two iterations each): enough work to kill mid-way. */
  private static Path manyRuns(Path root) throws IOException {
    for (String copy : List.of("a", "b", "c", "d")) {
      TestPaths.copyTree(TestPaths.sat("cogvideox-2b-sft"), root.resolve("sft-" + copy));
    }
    TestPaths.copyTree(TestPaths.sat("cogvideox1.5-5b-i2v-lora"), root.resolve("v15-lora"));
    return root;
  }

  private static List<String> committedOutputs(Path out) throws IOException {
    if (!Files.isDirectory(out)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(out)) {
      return walk.filter(p -> p.getFileName().toString().equals("_SUCCESS"))
          .map(p -> out.relativize(p.getParent()).toString()).sorted().toList();
    }
  }
}
