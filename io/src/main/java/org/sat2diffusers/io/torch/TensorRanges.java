package org.sat2diffusers.io.torch;

import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.io.storage.ByteRange;

/**
 * The byte ranges that, read in order and concatenated, give a tensor's elements in row-major
 * order: one range for a contiguous tensor, one per contiguous block for a strided view.
 */
public final class TensorRanges {
  /** More ranges than this means a view so scattered that reading it by ranges makes no sense. */
  public static final int DEFAULT_MAX_RANGES = 1 << 20;

  private TensorRanges() {}

  public static List<ByteRange> ranges(String file, TensorRecord tensor) {
    return ranges(file, tensor, DEFAULT_MAX_RANGES);
  }

  /**
   * Ranges of {@code tensor} in {@code file}. The tensor must fit its storage, as {@link
   * TorchCheckpointReader} checks; more than {@code maxRanges} blocks is an IllegalArgumentException.
   */
  public static List<ByteRange> ranges(String file, TensorRecord tensor, int maxRanges) {
    if (tensor.numel() == 0) {
      return List.of();
    }
    // size-1 dimensions never move the position; leave them out
    List<long[]> dims = new ArrayList<>(); // {size, stride}
    for (int i = 0; i < tensor.shape().size(); i++) {
      if (tensor.shape().get(i) != 1) {
        dims.add(new long[] {tensor.shape().get(i), tensor.stride().get(i)});
      }
    }
    // the innermost dimensions laid out back to back form one block of blockElements
    int outer = dims.size();
    long blockElements = 1;
    while (outer > 0 && dims.get(outer - 1)[1] == blockElements) {
      blockElements *= dims.get(outer - 1)[0];
      outer--;
    }
    long blocks = tensor.numel() / blockElements;
    if (blocks > maxRanges) {
      throw new IllegalArgumentException(
          file + ": tensor '" + tensor.key() + "' (shape " + tensor.shape() + ", stride " + tensor.stride()
              + ") is a view scattered over " + blocks + " blocks of " + blockElements * tensor.dtype().size()
              + " bytes, more than the limit of " + maxRanges + " byte ranges");
    }
    int elementSize = tensor.dtype().size();
    long blockBytes = blockElements * elementSize;
    List<ByteRange> ranges = new ArrayList<>();
    long[] index = new long[outer];
    long rangeStart = -1;
    long rangeLength = 0;
    for (long b = 0; b < blocks; b++) {
      long element = tensor.storageOffset();
      for (int d = 0; d < outer; d++) {
        element += index[d] * dims.get(d)[1];
      }
      long start = tensor.storageFileOffset() + element * elementSize;
      if (rangeStart >= 0 && start == rangeStart + rangeLength) {
        rangeLength += blockBytes; // adjacent to the previous block: extend it
      } else {
        if (rangeStart >= 0) {
          ranges.add(new ByteRange(file, rangeStart, rangeLength));
        }
        rangeStart = start;
        rangeLength = blockBytes;
      }
      for (int d = outer - 1; d >= 0 && ++index[d] == dims.get(d)[0]; d--) {
        index[d] = 0; // odometer carry
      }
    }
    ranges.add(new ByteRange(file, rangeStart, rangeLength));
    return ranges;
  }
}
