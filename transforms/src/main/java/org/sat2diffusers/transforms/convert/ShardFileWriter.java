package org.sat2diffusers.transforms.convert;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsHeader;
import org.sat2diffusers.io.safetensors.SafetensorsWriter;
import org.sat2diffusers.io.safetensors.TensorSpec;
import org.sat2diffusers.transforms.assemble.SourceOpener;
import org.sat2diffusers.transforms.assemble.TensorAssembler;
import org.sat2diffusers.transforms.plan.OutputTensor;

/**
 * Writes one safetensors file from tensor recipes: the header first (computed from the recipes),
 * then each tensor's bytes assembled from range reads of the sources, streamed, with checksums.
 */
public final class ShardFileWriter {
  /** What was written: file size, the file's sha256 and each tensor's. */
  public record Written(long fileBytes, String sha256, Map<String, String> tensorSha256) {}

  private ShardFileWriter() {}

  /**
   * @param label the destination's path, for messages
   * @param out the destination, written from its start in file order; not closed here
   */
  public static Written write(
      String label, List<OutputTensor> tensors, Map<String, String> metadata, SourceOpener opener, WritableByteChannel out)
      throws IOException {
    List<TensorSpec> specs = new ArrayList<>(tensors.size());
    Map<String, OutputTensor> byName = new HashMap<>();
    for (OutputTensor t : tensors) {
      specs.add(new TensorSpec(t.name(), t.dtype(), t.shape()));
      byName.put(t.name(), t);
    }
    SafetensorsHeader header = SafetensorsHeader.plan(specs, metadata);
    SafetensorsWriter writer =
        SafetensorsWriter.sequential(label, header, out, SafetensorsWriter.Digests.TENSORS_AND_FILE);
    try (TensorAssembler assembler = new TensorAssembler(opener)) {
      for (SafetensorsEntry e : header.entries()) {
        try (OutputStream tensorOut = writer.tensor(e.name())) {
          assembler.write(byName.get(e.name()), tensorOut);
        }
      }
    }
    SafetensorsWriter.Written written = writer.finish();
    return new Written(written.fileSize(), written.fileSha256().orElseThrow(), written.tensorSha256());
  }
}
