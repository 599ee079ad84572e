package org.sat2diffusers.io.safetensors;

import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.Shapes;

/**
 * A tensor to be written: what a safetensors header says about it, without its bytes.
 *
 * @param name the key in the header
 * @param dtype element type
 * @param shape sizes per dimension ({@code []} for a scalar, a 0 for an empty tensor)
 */
public record TensorSpec(String name, Dtype dtype, List<Long> shape) {
  public TensorSpec {
    shape = List.copyOf(shape);
    for (long size : shape) {
      if (size < 0) {
        throw new IllegalArgumentException("tensor '" + name + "': negative size in shape " + shape);
      }
    }
  }

  /** Bytes of the elements; ArithmeticException when the shape overflows a long. */
  public long byteLength() {
    return Shapes.byteLength(dtype, shape);
  }
}
