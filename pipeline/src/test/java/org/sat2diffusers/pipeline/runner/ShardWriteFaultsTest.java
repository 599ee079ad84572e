package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.xerial.snappy.OSInfo;

/**
 * Shard writes that fail: a write broken mid-way once ({@link BreaksOnceShardWriter}, wired in
 * through an option) is retried and the output is
 * byte-identical to a clean run's, on the DirectRunner and on Spark local[2]; a full disk (a child
 * JVM under {@code ulimit -f}) fails the checkpoint with exit code 1 and no commit marker, and the
 * next run, with space, finishes it. A killed run is CrashRecoveryIT's subject.
 */
class ShardWriteFaultsTest {
  private static final List<String> SOURCE =
      List.of("--source", TestPaths.sat("cogvideox-2b-sft").toString(), "--max-shard-size", "200KB");

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"direct", "spark"})
  void aShardWriteThatFailsOnceIsRetriedAndTheOutputIsByteIdentical(String runner, @TempDir Path work) {
    Path clean = work.resolve("clean");
    InProcessCli.convert(SOURCE, clean, "--runner", "direct");
    Path retried = work.resolve("retried");
    List<String> args = new ArrayList<>(List.of(runnerArgs(runner)));
    args.addAll(List.of("--beam-option", "shardWriter=" + BreaksOnceShardWriter.class.getName()));
    InProcessCli.convert(SOURCE, retried, args.toArray(String[]::new));
    String staging = retried.toString() + "/";
    assertTrue(BreaksOnceShardWriter.broken().stream().anyMatch(p -> p.startsWith(staging)), "no write was broken");
    OutputTrees.assertSameOutput(clean, retried);
  }

  @Test
  void aFullDiskFailsTheCheckpointCleanlyAndTheNextRunFinishesIt(@TempDir Path work) throws Exception {
    Path clean = work.resolve("clean");
    InProcessCli.convert(SOURCE, clean, "--runner", "direct");
    Path out = work.resolve("out");
    Path snappy = nativeSnappy(work);
    List<String> java = new ArrayList<>(List.of(ChildProcess.java(), "-Xmx512m",
        "-Dorg.xerial.snappy.lib.path=" + snappy.getParent(), "-Dorg.xerial.snappy.lib.name=" + snappy.getFileName(),
        "-cp", System.getProperty("java.class.path"), "org.sat2diffusers.pipeline.Main", "convert",
        "--output", out.toString()));
    java.addAll(SOURCE);
    // 190 KiB per file: neither VAE shard of ~200 KB can be written; the JVM inherits bash's limit
    List<String> limited = List.of("bash", "-c", "ulimit -f 190 && exec \"$@\"", "bash");
    List<String> command = new ArrayList<>(limited);
    command.addAll(java);
    try (ChildProcess run = ChildProcess.start("full-disk", command, Map.of(), work)) {
      assertEquals(1, run.awaitExit(Duration.ofMinutes(3)), run.logTail());
      // whichever of the two large VAE shards fails first fails the checkpoint; the other is then not written
      assertTrue(run.log().matches("(?s).*vae/diffusion_pytorch_model-0000[12]-of-00004\\.safetensors: File too large.*"),
          run.logTail());
      assertTrue(run.log().contains("nothing was committed"), run.logTail());
    }
    assertFalse(Files.exists(out.resolve("_SUCCESS")), "a commit marker on a failed conversion");
    assertEquals(List.of(), weightFilesOutsideStaging(out));

    InProcessCli.convert(SOURCE, out, "--runner", "direct");
    OutputTrees.assertSameOutput(clean, out);
  }

  /**
   * Snappy (Beam's) unpacks its native library into a temp file at startup, which the file-size
   * limit would stop: the child loads a copy made here instead.
   */
  private static Path nativeSnappy(Path work) throws IOException {
    String resource = "org/xerial/snappy/native/" + OSInfo.getNativeLibFolderPathForCurrentOS() + "/"
        + System.mapLibraryName("snappyjava");
    Path copy = work.resolve("snappy").resolve(System.mapLibraryName("snappyjava"));
    Files.createDirectories(copy.getParent());
    try (InputStream in = ClassLoader.getSystemResourceAsStream(resource)) {
      assertTrue(in != null, "no " + resource + " on the class path");
      Files.copy(in, copy);
    }
    return copy;
  }

  private static String[] runnerArgs(String runner) {
    return runner.equals("spark")
        ? new String[] {"--runner", "spark", "--spark-master", "local[2]"}
        : new String[] {"--runner", "direct"};
  }

  private static List<Path> weightFilesOutsideStaging(Path out) throws IOException {
    if (!Files.isDirectory(out)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(out)) {
      return files.filter(p -> p.toString().endsWith(".safetensors"))
          .filter(p -> !out.relativize(p).toString().startsWith(".sat2diffusers-staging")).toList();
    }
  }
}
