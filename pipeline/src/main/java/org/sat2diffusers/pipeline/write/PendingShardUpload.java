package org.sat2diffusers.pipeline.write;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.storage.S3MultipartUpload;
import org.sat2diffusers.io.storage.StorageFiles;

/**
 * A shard staged on S3 as a multipart upload to its final key, left open until the commit completes
 * it. S3 has no rename: a shard uploaded into the staging folder would be copied to its place by the
 * commit, the whole shard once more inside the store (as long again as writing it, on S3Proxy). An
 * open upload is invisible until completed, and completing it is atomic, as a move is. What the
 * commit (another worker, maybe) needs, the upload's final path, id, parts and size, is the record:
 * a small object at the shard's staging path plus {@value #SUFFIX}. It is written as soon as the
 * upload starts (so that a run killed while uploading leaves an upload the next run's tidy can
 * abort) and again, with the parts, once all are sent. A record is acted on only when the final
 * path it names is the one its place in the staging folder says: a record put there by anyone else
 * completes or aborts no upload outside the output.
 */
public final class PendingShardUpload {
  public static final String SUFFIX = ".s3-upload";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The record's fields; {@code size} is -1 until every part is sent. */
  record Fields(String path, String uploadId, long size, Map<Integer, String> etags) {}

  private PendingShardUpload() {}

  /** The record of the shard staged at {@code stagedPath}. */
  public static String recordOf(String stagedPath) {
    return stagedPath + SUFFIX;
  }

  /** Whether {@code file} (a staging folder's) is such a record. */
  public static boolean isRecord(String file) {
    return file.endsWith(SUFFIX);
  }

  /** Records {@code upload} (of the shard staged at {@code stagedPath}): {@code size} -1 while parts are sent. */
  static void record(String stagedPath, String finalPath, S3MultipartUpload upload, long size) throws IOException {
    Fields fields = new Fields(finalPath, upload.uploadId(), size, upload.etags());
    StorageFiles.writeString(recordOf(stagedPath), JSON.writeValueAsString(fields));
  }

  /** Aborts the upload an earlier attempt at the shard staged at {@code stagedPath} recorded, if any. */
  static void abortEarlierAttempt(String stagedPath, String finalPath) throws IOException {
    String record = recordOf(stagedPath);
    if (StorageFiles.exists(record)) {
      S3MultipartUpload.resume(finalPath, read(record, finalPath).uploadId(), Map.of()).abort();
    }
  }

  /**
   * Completes the upload {@code record} names (a record written once every part was sent), making
   * the shard appear at its final path; fails when it is not all there.
   */
  public static void complete(String record, String finalPath) throws IOException {
    Fields fields = read(record, finalPath);
    if (fields.size() < 0) {
      throw new IOException(record + ": the upload to " + fields.path() + " was not finished; nothing to complete");
    }
    S3MultipartUpload.resume(fields.path(), fields.uploadId(), fields.etags()).complete(fields.size());
  }

  /**
   * Aborts the uploads of the records among {@code files} (others are ignored), files of the staging
   * folder {@code stagingDir} of {@code outputDir}: their parts are dropped. An upload already
   * completed or aborted is no error. The records themselves stay.
   */
  public static void abortAll(Collection<String> files, String stagingDir, String outputDir) throws IOException {
    List<IOException> failures = new ArrayList<>();
    for (String file : files) {
      if (!isRecord(file)) {
        continue;
      }
      try {
        if (!file.startsWith(stagingDir + "/")) {
          throw new IOException(file + " is not in the staging folder " + stagingDir + "; its upload was left alone");
        }
        String finalPath = outputDir + file.substring(stagingDir.length(), file.length() - SUFFIX.length());
        S3MultipartUpload.resume(finalPath, read(file, finalPath).uploadId(), Map.of()).abort();
      } catch (IOException e) {
        failures.add(e);
      }
    }
    if (!failures.isEmpty()) {
      IOException first = failures.get(0);
      failures.subList(1, failures.size()).forEach(first::addSuppressed);
      throw first;
    }
  }

  /** The record's fields, if it names {@code finalPath}. */
  private static Fields read(String record, String finalPath) throws IOException {
    Fields fields;
    try {
      fields = JSON.readValue(StorageFiles.readString(record, 1 << 20), Fields.class);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IOException(record + ": not a record of a staged upload (" + e.getOriginalMessage() + ")", e);
    }
    if (!finalPath.equals(fields.path())) {
      throw new IOException(record + ": records an upload to " + fields.path() + ", not to " + finalPath
          + " where this staged shard belongs; the upload was left alone");
    }
    return fields;
  }
}
