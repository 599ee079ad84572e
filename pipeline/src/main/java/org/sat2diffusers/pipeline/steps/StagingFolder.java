package org.sat2diffusers.pipeline.steps;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.write.PendingShardUpload;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code OUT/.sat2diffusers-staging}, where a checkpoint's files are written until the commit moves
 * them into place (on S3, a shard's record of its upload to its place: {@link PendingShardUpload};
 * removing such a record aborts the upload). It must be a real folder of the output: a symbolic
 * link there would make the writers and the commit write, move and delete in whatever folder it
 * points to. A checkpoint that
 * failed while its shards were being written is marked failed here, so that its other shards are not
 * written and their space is free for the rest of the run.
 */
public final class StagingFolder {
  public static final String NAME = ".sat2diffusers-staging";
  /** In the staging folder of a checkpoint that will not be committed. */
  private static final String FAILED = ".failed";

  private static final Logger LOG = LoggerFactory.getLogger(StagingFolder.class);

  private StagingFolder() {}

  /**
   * Before a checkpoint is written (its output locked): refuses a staging folder that is a link,
   * and removes what an earlier run that was killed left in it (links inside are removed, never
   * followed).
   */
  public static void prepare(String outputDir) throws IOException {
    String staging = outputDir + "/" + NAME;
    OutputGuard.requireNoLinks(outputDir, List.of(staging));
    discard(outputDir);
  }

  /** Whether the output has a staging folder (or, on an object store, staged files). */
  public static boolean exists(String outputDir) throws IOException {
    String staging = outputDir + "/" + NAME;
    return StorageFiles.isLocal(staging) ? Files.exists(StorageFiles.localPath(staging), LinkOption.NOFOLLOW_LINKS)
        : !StorageFiles.list(staging + "/**").isEmpty();
  }

  /**
   * Removes a file a failed write left in a staging folder (its partial bytes would keep a full disk
   * full while the run goes on); a failure to do so is only logged, the write's error is what counts.
   */
  public static void removeFailedFile(String path) {
    int staging = path.indexOf("/" + NAME + "/");
    try {
      if (staging > 0) {
        String outputDir = path.substring(0, staging);
        List<String> files = List.of(path, PendingShardUpload.recordOf(path));
        OutputGuard.requireNoLinks(outputDir, files);
        if (StorageFiles.exists(files.get(1))) {
          PendingShardUpload.abortAll(files, outputDir + "/" + NAME, outputDir);
        }
        StorageFiles.delete(files);
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("cannot remove {} after its write failed: {}", path, ErrorText.of(e));
    }
  }

  /**
   * A shard of the checkpoint staged in {@code outputDir} failed for good, so the checkpoint will not
   * be committed: its staged files are removed now, not at the commit (the next checkpoint may need
   * their space), and the folder is marked failed so that its remaining shards are not written. A
   * shard another worker finishes meanwhile is removed here, or by that worker when it sees the mark
   * ({@link #hasFailed}). Failures to do so are only logged: the shard's error is what counts, and the
   * commit step discards the staging folder of a failed checkpoint anyway.
   */
  public static void failCheckpoint(String outputDir) {
    String staging = outputDir + "/" + NAME;
    try {
      discard(outputDir); // first: on a full disk even the mark needs room
      OutputGuard.requireNoLinks(outputDir, List.of(staging));
      StorageFiles.writeString(staging + "/" + FAILED, "");
      List<String> finishedMeanwhile =
          StorageFiles.list(staging + "/**").stream().filter(f -> !f.endsWith("/" + NAME + "/" + FAILED)).toList();
      OutputGuard.requireNoLinks(outputDir, finishedMeanwhile);
      PendingShardUpload.abortAll(finishedMeanwhile, staging, outputDir);
      StorageFiles.delete(finishedMeanwhile);
    } catch (IOException | RuntimeException e) {
      LOG.warn("{}: cannot remove the staged files of the failed checkpoint yet: {}", outputDir, ErrorText.of(e));
    }
  }

  /**
   * Whether the checkpoint staged in {@code outputDir} has failed ({@link #failCheckpoint}): then its
   * shards are not written, or removed once written. False when that cannot be told (logged): the
   * commit step still discards what a failed checkpoint staged.
   */
  public static boolean hasFailed(String outputDir) {
    try {
      return StorageFiles.exists(outputDir + "/" + NAME + "/" + FAILED);
    } catch (IOException | RuntimeException e) {
      LOG.warn("{}: cannot tell whether the checkpoint has failed: {}", outputDir, ErrorText.of(e));
      return false;
    }
  }

  /** Removes the staging folder and everything in it, following no link; frees a failed checkpoint's space. */
  public static void discard(String outputDir) throws IOException {
    String staging = outputDir + "/" + NAME;
    OutputGuard.requireNoLinks(outputDir, List.of(staging));
    if (!StorageFiles.isLocal(staging)) {
      List<String> files = StorageFiles.list(staging + "/**");
      PendingShardUpload.abortAll(files, staging, outputDir); // the uploads of shards staged for the commit
      StorageFiles.delete(files);
      StorageFiles.deleteEmptiedFolders(staging, new ArrayList<>(files));
      return;
    }
    Path root = StorageFiles.localPath(staging);
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(root, new SimpleFileVisitor<>() { // does not follow links: a link is deleted as itself
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        Files.delete(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
