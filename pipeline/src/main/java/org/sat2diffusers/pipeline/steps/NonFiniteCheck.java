package org.sat2diffusers.pipeline.steps;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sat2diffusers.io.dtype.NonFiniteCounter;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;

/**
 * --check-finite: the written shard's floating-point tensors, read back once (from the page cache
 * for a local shard just written), with their NaN and infinity counts.
 */
final class NonFiniteCheck {
  private NonFiniteCheck() {}

  /** Tensor name to {@code "nan,inf"} for the tensors that hold any; empty when all are finite. */
  static Map<String, String> of(String shard) throws IOException {
    Map<String, String> found = new LinkedHashMap<>();
    try (RandomAccessInput in = RandomAccessInputs.open(shard)) {
      SafetensorsFile file = SafetensorsFile.open(in);
      for (SafetensorsEntry e : file.entries()) {
        try (InputStream bytes = file.openTensor(e.name())) {
          NonFiniteCounter.Counts counts = NonFiniteCounter.count(e.dtype(), bytes);
          if (counts.any()) {
            found.put(e.name(), counts.nan() + "," + counts.inf());
          }
        }
      }
    }
    return found;
  }
}
