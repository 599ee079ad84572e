package org.sat2diffusers.io.torch;

import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.io.storage.ByteRange;

/**
 * A tensor assembled from pieces, described without its bytes: the byte ranges, possibly in
 * several files, whose concatenation in order is the tensor's elements in row-major order. A
 * tensor of one checkpoint is one or a few ranges ({@link #of}); a ZeRO fp32 master spanning two
 * partitions is two; a tensor saved in dim-0 chunks is one range per chunk.
 *
 * @param key the name the tensor goes by in its source (state-dict key)
 * @param dtype element type
 * @param shape sizes per dimension
 * @param ranges the byte ranges, in order; their lengths add up to the tensor's byte length
 */
public record TensorRecipe(String key, Dtype dtype, List<Long> shape, List<ByteRange> ranges) {
  public TensorRecipe {
    shape = List.copyOf(shape);
    ranges = List.copyOf(ranges);
    long total = 0;
    for (ByteRange range : ranges) {
      total += range.length();
    }
    if (total != Shapes.byteLength(dtype, shape)) {
      throw new IllegalArgumentException(
          "tensor '" + key + "': " + dtype + " " + shape + " needs " + Shapes.byteLength(dtype, shape)
              + " bytes, its ranges hold " + total);
    }
  }

  /** A checkpoint's tensor as it is stored in {@code file}. */
  public static TensorRecipe of(String file, TensorRecord tensor) {
    return new TensorRecipe(tensor.key(), tensor.dtype(), tensor.shape(), TensorRanges.ranges(file, tensor));
  }

  /** The same bytes under another key (a source's prefix removed, a tied parameter's alias). */
  public TensorRecipe named(String newKey) {
    return new TensorRecipe(newKey, dtype, shape, ranges);
  }

  public long numel() {
    return Shapes.numel(shape);
  }

  public long byteLength() {
    return Shapes.byteLength(dtype, shape);
  }

  /** The files the ranges read, in first-use order. */
  public List<String> files() {
    return ranges.stream().map(ByteRange::file).distinct().toList();
  }
}
