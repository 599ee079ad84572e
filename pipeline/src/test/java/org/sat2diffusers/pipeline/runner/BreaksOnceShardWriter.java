package org.sat2diffusers.pipeline.runner;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.pipeline.write.ShardFileWriter;
import org.sat2diffusers.pipeline.write.ShardFiles;
import org.sat2diffusers.pipeline.write.ShardWriter;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * The real shard writer, except that the first attempt at each (local) shard named {@link #FILE_NAME}
 * is broken mid-way: the file is cut to half its length and the write fails, as a broken disk or
 * connection would leave it. Wired in with {@code --beam-option shardWriter=<this class>}; embedded
 * runners (Direct, Spark local) run their workers in the test's JVM.
 */
public final class BreaksOnceShardWriter implements ShardWriter {
  static final String FILE_NAME = "diffusion_pytorch_model-00002-of-00004.safetensors";
  private static final Set<String> BROKEN = ConcurrentHashMap.newKeySet();

  private final ShardWriter real = new ShardFiles();

  @Override
  public ShardFileWriter.Written write(String path, String finalPath, List<OutputTensor> tensors,
      Map<String, String> metadata, SourceOpener opener, Digest digest) throws IOException {
    ShardFileWriter.Written written = real.write(path, finalPath, tensors, metadata, opener, digest);
    if (path.endsWith("/" + FILE_NAME) && BROKEN.add(path)) {
      try (FileChannel file = FileChannel.open(Path.of(path), StandardOpenOption.WRITE)) {
        file.truncate(written.fileBytes() / 2);
      }
      throw new IOException(path + ": write broken mid-way (" + BreaksOnceShardWriter.class.getSimpleName() + ")");
    }
    return written;
  }

  /** The shards broken so far (each path once). */
  static Set<String> broken() {
    return Set.copyOf(BROKEN);
  }
}
