package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.pipeline.verify.ConvertedFolderCheck;

/**
 * Issue 18, a full disk: the outputs go to a 1 MiB file system (a tmpfs mounted here; the test needs
 * root) that holds one of the two checkpoints. The checkpoints that fail leave no staged files
 * behind to keep the disk full; each output verifies or has no {@code _SUCCESS}; once there is room,
 * the same command converts the rest.
 */
class DiskFullTest {
  @TempDir Path work;

  @Test
  void aFullDiskLeavesNoStagingAndTheNextRunFinishes() throws Exception {
    Path run = TestPaths.copyTree(TestPaths.sat("cogvideox-2b-sft"), work.resolve("runs/sft"));
    Map<String, String> sources = TreeSnapshot.of(run);
    Path disk = Files.createDirectories(work.resolve("disk"));
    assumeTrue(mount(disk, "size=1m"), "needs root to mount a small tmpfs");
    try {
      Path out = disk.resolve("out");
      CliRun full = CliRun.run("convert", "--source", run, "--iterations", "all", "--output", out);

      assertEquals(1, full.exitCode(), full.out() + full.err());
      assertEquals(List.of(), stagedFiles(out), "staged files left on the full disk");
      List<String> outputs = List.of("500", "1000");
      for (String o : outputs) {
        if (Files.exists(out.resolve(o).resolve("_SUCCESS"))) {
          assertEquals(List.of(), ConvertedFolderCheck.run(out.resolve(o).toString(), ConvertedFolderCheck.DEFAULT_FILE_TIMEOUT).problems(), o);
        }
      }

      assertTrue(remount(disk, "size=8m"));
      CliRun.run("convert", "--source", run, "--iterations", "all", "--output", out).assertSucceeded();
      for (String o : outputs) {
        assertEquals(List.of(), ConvertedFolderCheck.run(out.resolve(o).toString(), ConvertedFolderCheck.DEFAULT_FILE_TIMEOUT).problems(), o);
      }
      assertEquals(List.of(), stagedFiles(out));
    } finally {
      new ProcessBuilder("umount", disk.toString()).start().waitFor();
    }
    assertEquals(sources, TreeSnapshot.of(run), "the source, byte for byte");
  }

  private static List<String> stagedFiles(Path out) throws IOException {
    try (Stream<Path> walk = Files.walk(out)) {
      return walk.map(p -> out.relativize(p).toString()).filter(p -> p.contains(".sat2diffusers-staging")).toList();
    }
  }

  private static boolean mount(Path dir, String options) throws IOException, InterruptedException {
    return new ProcessBuilder("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.toString()).start().waitFor() == 0;
  }

  private static boolean remount(Path dir, String options) throws IOException, InterruptedException {
    return new ProcessBuilder("mount", "-o", "remount," + options, dir.toString()).start().waitFor() == 0;
  }
}
