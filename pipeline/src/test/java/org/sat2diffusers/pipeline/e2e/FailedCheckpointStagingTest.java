package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.steps.StagingFolder;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.pipeline.verify.ConvertedFolderCheck;

/**
 * Issue 18: a checkpoint whose shard fails for good (here: a full disk, {@link
 * FailsOneCheckpointShardWriter}) frees its staged files at once, before another shard of the run is
 * written, and writes none of its other shards; the run's other checkpoint commits and verifies, the
 * failed one has neither a marker nor staged files, and the source is unchanged.
 */
class FailedCheckpointStagingTest {
  @TempDir Path work;

  @Test
  void aFailedCheckpointFreesItsStagingBeforeTheRunGoesOn() throws IOException {
    Path run = TestPaths.copyTree(TestPaths.sat("cogvideox-2b-sft"), work.resolve("runs/sft"));
    Map<String, String> source = TreeSnapshot.of(run);
    Path out = work.resolve("out");
    FailsOneCheckpointShardWriter.watch(out.resolve("500"));

    // 200KB shards: six files per checkpoint, so the failed one has shards left after its failure;
    // one runner thread (two checkpoints would get two), so that the shards come one after another
    CliRun r = CliRun.run("convert", "--source", run, "--iterations", "all", "--output", out,
        "--max-shard-size", "200KB", "--beam-option", "shardWriter=" + FailsOneCheckpointShardWriter.class.getName(),
        "--beam-option", "targetParallelism=1");

    assertEquals(1, r.exitCode(), r.err());
    String failed = FailsOneCheckpointShardWriter.failed();
    assertNotNull(failed, "no shard of 500 failed");
    assertTrue(r.err().contains(failed), r.err());
    // of 500's six files, the first was written, the second failed, and the four after it were not written
    Matcher wrote = Pattern.compile("wrote " + Pattern.quote(out.resolve("500") + "/")).matcher(r.err());
    assertEquals(1, wrote.results().count(), r.err());
    for (FailsOneCheckpointShardWriter.LaterWrite later : FailsOneCheckpointShardWriter.laterWrites()) {
      assertFalse(later.path().startsWith(out.resolve("500") + "/"), "a shard of the failed checkpoint written: " + later);
      assertEquals(List.of(), later.stagedOfFailed(), "the failed checkpoint's files still staged when "
          + later.path() + " was begun");
    }
    assertFalse(Files.exists(out.resolve("500/_SUCCESS")), "a marker on the failed checkpoint");
    assertFalse(Files.exists(out.resolve("500").resolve(StagingFolder.NAME)), "the failed checkpoint's staging left");
    assertTrue(Files.exists(out.resolve("1000/_SUCCESS")), r.err());
    assertEquals(List.of(), ConvertedFolderCheck.run(out.resolve("1000").toString(),
        ConvertedFolderCheck.DEFAULT_FILE_TIMEOUT).problems());
    assertEquals(source, TreeSnapshot.of(run), "the source, byte for byte");
  }
}
