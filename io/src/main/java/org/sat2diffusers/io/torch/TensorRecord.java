package org.sat2diffusers.io.torch;

import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.Shapes;

/**
 * One tensor of a torch checkpoint, described without its bytes: everything needed to find and
 * interpret them later with range reads.
 *
 * @param key full state-dict key, e.g. {@code model.diffusion_model.mixins.patch_embed.proj.weight}
 * @param dtype element type (from the storage class)
 * @param shape sizes per dimension ({@code []} for a scalar)
 * @param stride strides per dimension, in elements
 * @param storageKey the storage's key: its bytes are the zip entry {@code <top>/data/<storageKey>}
 * @param storageOffset offset of the tensor's first element in its storage, in elements
 * @param storageFileOffset absolute file offset of the storage's first byte
 * @param storageBytes size of the storage in bytes
 * @param sharedWith other keys of the same state dict whose tensors use the same storage, in key order
 */
public record TensorRecord(
    String key,
    Dtype dtype,
    List<Long> shape,
    List<Long> stride,
    String storageKey,
    long storageOffset,
    long storageFileOffset,
    long storageBytes,
    List<String> sharedWith) {

  public TensorRecord {
    shape = List.copyOf(shape);
    stride = List.copyOf(stride);
    sharedWith = List.copyOf(sharedWith);
  }

  /** Number of elements. */
  public long numel() {
    return Shapes.numel(shape);
  }

  /** Bytes of the tensor's elements (not of its storage). */
  public long byteLength() {
    return Shapes.byteLength(dtype, shape);
  }

  /** Absolute file offset of the tensor's first element. */
  public long fileOffset() {
    return storageFileOffset + storageOffset * dtype.size();
  }

  /** True when the elements are laid out row-major with no gaps (C-contiguous), as torch defines it. */
  public boolean contiguous() {
    long expected = 1;
    for (int i = shape.size() - 1; i >= 0; i--) {
      long size = shape.get(i);
      if (size != 1 && stride.get(i) != expected) {
        return false;
      }
      expected *= size;
    }
    return true;
  }
}
