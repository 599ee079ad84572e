package org.sat2diffusers.pipeline.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.pipeline.steps.StagingFolder;
import org.sat2diffusers.pipeline.write.ShardFileWriter;
import org.sat2diffusers.pipeline.write.ShardFiles;
import org.sat2diffusers.pipeline.write.ShardWriter;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * The real shard writer, except that the second shard begun for the output {@link #watch}ed (the
 * first one is written) fails at
 * every attempt, as a shard larger than the disk's free space would. Every write that starts after
 * that failure (other than its retries) is recorded with the weight files then staged for the failed
 * output, so a test can tell whether its space was freed before the run went on. Wired in with
 * {@code --beam-option shardWriter=<this class>}; the embedded runner's workers run in the test's JVM.
 */
public final class FailsOneCheckpointShardWriter implements ShardWriter {
  /** A write begun after the failure: its file, and the weight files the failed output had staged then. */
  record LaterWrite(String path, List<String> stagedOfFailed) {}

  private static volatile Path watched;
  /** The shards of the watched output begun so far. */
  private static final Set<String> BEGUN = ConcurrentHashMap.newKeySet();
  private static volatile String failing;
  private static final List<LaterWrite> LATER = new ArrayList<>();

  private final ShardWriter real = new ShardFiles();

  /** Fails a shard of {@code outputDir}'s from now on; forgets what earlier runs recorded. */
  static synchronized void watch(Path outputDir) {
    watched = outputDir;
    BEGUN.clear();
    failing = null;
    LATER.clear();
  }

  /** The shard that failed, or null. */
  static String failed() {
    return failing;
  }

  /** The writes begun after the failure, in order. */
  static synchronized List<LaterWrite> laterWrites() {
    return List.copyOf(LATER);
  }

  @Override
  public ShardFileWriter.Written write(String path, String finalPath, List<OutputTensor> tensors,
      Map<String, String> metadata, SourceOpener opener, Digest digest) throws IOException {
    Path staging = watched.resolve(StagingFolder.NAME);
    synchronized (FailsOneCheckpointShardWriter.class) {
      if (failing != null && !path.equals(failing)) {
        LATER.add(new LaterWrite(path, weightFiles(staging)));
      }
      if (path.startsWith(staging + "/")) {
        if (failing == null && !BEGUN.isEmpty() && !BEGUN.contains(path)) {
          failing = path;
        }
        BEGUN.add(path);
      }
    }
    if (path.equals(failing)) {
      throw new IOException(path + ": No space left on device (" + getClass().getSimpleName() + ")");
    }
    return real.write(path, finalPath, tensors, metadata, opener, digest);
  }

  private static List<String> weightFiles(Path staging) throws IOException {
    if (!Files.isDirectory(staging)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(staging)) {
      return files.map(Path::toString).filter(p -> p.endsWith(".safetensors")).sorted().toList();
    }
  }
}
