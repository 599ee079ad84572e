package org.sat2diffusers.io.safetensors;

import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.io.storage.ByteRange;

/**
 * One tensor of a safetensors file and where its bytes are.
 *
 * @param name the key in the header
 * @param dtype element type
 * @param shape sizes per dimension ({@code []} for a scalar)
 * @param offset absolute position of the tensor's first byte in the file (not relative to the data section)
 */
public record SafetensorsEntry(String name, Dtype dtype, List<Long> shape, long offset) {
  public SafetensorsEntry {
    shape = List.copyOf(shape);
  }

  public long byteLength() {
    return Shapes.byteLength(dtype, shape);
  }

  /** Absolute position just past the tensor's last byte. */
  public long end() {
    return offset + byteLength();
  }

  /** The tensor's bytes as a range of {@code file}. */
  public ByteRange range(String file) {
    return new ByteRange(file, offset, byteLength());
  }
}
