package org.sat2diffusers.transforms.records;

import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.io.storage.ByteRange;

/**
 * One tensor of a Diffusers folder, as the way back (Diffusers to SAT) reads it: its component, its
 * key inside the component, and where its bytes lie in a safetensors file. No byte is read to know it.
 *
 * @param component the component folder it was found in
 * @param key the key in the safetensors header
 * @param dtype element type
 * @param shape sizes per dimension
 * @param bytes the tensor's bytes (a range of one safetensors file)
 */
public record DiffusersTensor(Component component, String key, Dtype dtype, List<Long> shape, ByteRange bytes) {
  public DiffusersTensor {
    shape = List.copyOf(shape);
    if (bytes.length() != Shapes.byteLength(dtype, shape)) {
      throw new IllegalArgumentException(bytes.file() + ": tensor '" + key + "' " + dtype + shape + " needs "
          + Shapes.byteLength(dtype, shape) + " bytes, its range has " + bytes.length());
    }
  }

  /** Bytes of one index along dim 0 (the whole tensor for a scalar). */
  public long rowBytes() {
    return Shapes.byteLength(dtype, shape.isEmpty() ? shape : shape.subList(1, shape.size()));
  }
}
