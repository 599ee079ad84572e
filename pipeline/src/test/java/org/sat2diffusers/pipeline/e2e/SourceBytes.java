package org.sat2diffusers.pipeline.e2e;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.TensorRecipe;

/** The bytes of tensor recipes, read from their ranges: what a test compares a conversion against. */
final class SourceBytes {
  private SourceBytes() {}

  static Map<String, byte[]> read(List<TensorRecipe> recipes) throws IOException {
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (TensorRecipe r : recipes) {
      byte[] bytes = new byte[Math.toIntExact(r.byteLength())];
      int at = 0;
      for (ByteRange range : r.ranges()) {
        try (RandomAccessInput in = RandomAccessInputs.open(range.file())) {
          in.readFully(range.offset(), bytes, at, Math.toIntExact(range.length()));
        }
        at += Math.toIntExact(range.length());
      }
      out.put(r.key(), bytes);
    }
    return out;
  }
}
