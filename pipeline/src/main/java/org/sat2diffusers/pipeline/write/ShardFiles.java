package org.sat2diffusers.pipeline.write;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.util.MimeTypes;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * Shard files where the path says: a local file is written by several threads at once (tensors at
 * their planned offsets, plain copies zero-copy) and synced to disk; an S3 object is a multipart
 * upload whose parts several threads send ({@link S3ShardUpload}), to its final key and left for the
 * commit to complete when one is given; other stores (hdfs://, ...) get one stream through Beam's
 * {@link FileSystems}.
 */
public final class ShardFiles implements ShardWriter {
  /** Threads per local shard: the hashing (a digest per tensor) is what keeps a core busy. */
  private static final int THREADS_PER_LOCAL_SHARD = Math.max(2, Runtime.getRuntime().availableProcessors());

  @Override
  public ShardFileWriter.Written write(String path, String finalPath, List<OutputTensor> tensors,
      Map<String, String> metadata, SourceOpener opener, Digest digest) throws IOException {
    Path local = localPath(path);
    if (local != null) {
      return ShardFileWriter.writeLocal(local, tensors, metadata, opener, THREADS_PER_LOCAL_SHARD, digest);
    }
    if (path.startsWith("s3://") && S3ShardUpload.fits(tensors, metadata)) {
      return S3ShardUpload.write(path, finalPath, tensors, metadata, opener, digest);
    }
    try (WritableByteChannel channel = FileSystems.create(FileSystems.matchNewResource(path, false), MimeTypes.BINARY)) {
      return ShardFileWriter.write(path, tensors, metadata, opener, channel, digest);
    }
  }

  /** Whether shards under {@code folder} are written by several threads each (local files, S3), not one stream. */
  public static boolean writesInParallel(String folder) {
    return StorageFiles.isLocal(folder) || folder.startsWith("s3://");
  }

  /** The local file a path names (plain path or file: URI), or null for another store. */
  private static Path localPath(String path) {
    if (!StorageFiles.isLocal(path)) {
      return null;
    }
    return path.startsWith("file:") ? Paths.get(URI.create(path)) : Paths.get(path);
  }
}
