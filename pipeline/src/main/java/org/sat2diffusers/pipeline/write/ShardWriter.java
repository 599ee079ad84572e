package org.sat2diffusers.pipeline.write;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * One attempt at one shard file: creates it at {@code path} (replacing an earlier attempt's) and
 * writes it from its start. Given the {@code finalPath} the commit will move it to, a store that has
 * no rename may write it there directly instead, invisible until the commit completes it (an S3
 * multipart upload left open, recorded at {@code path}: {@link PendingShardUpload}); without one
 * (null) the file is complete at {@code path} when the write returns. {@link ShardFiles} is the
 * real one; {@link ShardWriteOptions} names the class a run uses, so that a test can wire in a
 * decorator (a write that breaks) through an option. Implementations need a public no-argument
 * constructor.
 */
public interface ShardWriter {
  ShardFileWriter.Written write(String path, String finalPath, List<OutputTensor> tensors,
      Map<String, String> metadata, SourceOpener opener, Digest digest) throws IOException;
}
