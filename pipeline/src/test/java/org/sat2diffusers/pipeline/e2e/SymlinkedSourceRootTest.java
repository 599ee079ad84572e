package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * A {@code --source-root} on a shared file system full of links (issue 18): a run linked in from
 * elsewhere is converted, a loop back to the root and a link to {@code /} are not followed, and each
 * checkpoint is converted exactly once, under the path that is not a link.
 */
class SymlinkedSourceRootTest {
  @TempDir Path work;

  @Test
  void loopsAndALinkToTheFileSystemRootAreSkippedAndEachCheckpointConvertedOnce() throws IOException {
    Path root = sharedTree();
    Path out = work.resolve("out");

    long start = System.nanoTime();
    CliRun run = CliRun.run("convert", "--source-root", root, "--iterations", "all", "--output", out)
        .assertNoStackTrace().assertSucceeded();
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;

    assertEquals(List.of(
            "team/lora/200/_SUCCESS", "team/lora/200/transformer/diffusion_pytorch_model.safetensors",
            "team/sft/1000/_SUCCESS", "team/sft/1000/transformer/diffusion_pytorch_model.safetensors",
            "team/sft/500/_SUCCESS", "team/sft/500/transformer/diffusion_pytorch_model.safetensors"),
        OutputFolders.committedFiles(out).stream().filter(f -> f.endsWith("_SUCCESS") || f.contains("transformer/"))
            .toList());
    for (String link : List.of("team/loop", "everything", "team/sft-again")) {
      assertTrue(run.err().lines().anyMatch(l -> l.startsWith("warning: ") && l.contains(root.resolve(link) + ":")),
          "no warning about " + link + ":\n" + run.err());
    }
    assertTrue(seconds < 120, "the conversion took " + seconds + " s");
  }

  @Test
  void runsBelowTheDepthLimitAreNotSearched() throws IOException {
    Path root = sharedTree();
    Path out = work.resolve("out");

    // the runs' 'latest' files are two folders down
    CliRun run = CliRun.run("convert", "--source-root", root, "--max-depth", "1", "--output", out).assertNoStackTrace();

    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), run.err());
    assertTrue(run.err().contains("no SAT run below " + root), run.err());
    assertTrue(run.err().contains("depth limit of 1"), run.err());
    assertEquals(List.of(), OutputFolders.committedFiles(out));
  }

  @Test
  void aManifestJobHasItsOwnDepthLimit() throws IOException {
    Path root = sharedTree();
    Path manifest = work.resolve("jobs.yaml");
    Files.writeString(manifest, "- source_root: " + root + "\n  output: " + work.resolve("out") + "\n  max_depth: 1\n");

    CliRun run = CliRun.run("convert", "--manifest", manifest).assertNoStackTrace();

    assertEquals(ExitCodes.USAGE, run.exitCode(), run.err());
    assertTrue(run.err().contains("line 1, source_root: no SAT run below " + root), run.err());

    CliRun both = CliRun.run("convert", "--manifest", manifest, "--max-depth", "4").assertNoStackTrace();
    assertEquals(ExitCodes.USAGE, both.exitCode(), both.err());
    assertTrue(both.err().contains("in a --manifest give max_depth per job"), both.err());
  }

  /**
   * root/team/sft → the 2B fixture run (outside the root), root/team/lora: a real copy of the LoRA
   * run, root/team/loop → root, root/everything → /, root/team/sft-again → root/team/sft.
   */
  private Path sharedTree() throws IOException {
    Path root = Files.createDirectories(work.resolve("runs"));
    Path team = Files.createDirectories(root.resolve("team"));
    Files.createSymbolicLink(team.resolve("sft"), TestPaths.sat().resolve("cogvideox-2b-sft"));
    copyTree(TestPaths.sat().resolve("cogvideox-5b-lora"), team.resolve("lora"));
    Files.createSymbolicLink(team.resolve("loop"), root);
    Files.createSymbolicLink(root.resolve("everything"), Path.of("/"));
    Files.createSymbolicLink(team.resolve("sft-again"), team.resolve("sft"));
    return root;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var files = Files.walk(from)) {
      for (Path p : files.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
