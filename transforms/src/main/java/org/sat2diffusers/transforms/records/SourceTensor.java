package org.sat2diffusers.transforms.records;

import java.util.List;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.torch.TensorRecord;

/**
 * A tensor record with the file that holds it: one checkpoint may span several files (the released
 * layout keeps the transformer and the VAE apart; model-parallel ranks each hold a slice).
 *
 * @param file the file holding it (for a tensor merged from model-parallel ranks: rank 0's file)
 * @param tensor its record (for a merged tensor: the merged key, dtype and shape, laid out contiguously)
 * @param mergedRanges for a tensor merged from model-parallel ranks, the byte ranges whose concatenation
 *     is the merged tensor (for a tensor a reader assembled from several places, its recipe's ranges);
 *     null for a tensor read as it lies in {@code file}
 * @param names what its key is: a SAT key (routed by prefix) or a Diffusers transformer name
 */
public record SourceTensor(String file, TensorRecord tensor, List<ByteRange> mergedRanges, KeyNames names) {
  public SourceTensor {
    mergedRanges = mergedRanges == null ? null : List.copyOf(mergedRanges);
    names = names == null ? KeyNames.SAT : names;
  }

  public SourceTensor(String file, TensorRecord tensor, List<ByteRange> mergedRanges) {
    this(file, tensor, mergedRanges, KeyNames.SAT);
  }

  public SourceTensor(String file, TensorRecord tensor) {
    this(file, tensor, null, KeyNames.SAT);
  }

  public String key() {
    return tensor.key();
  }

  /** Whether this tensor is assembled from several ranges (model-parallel slices, a reader's recipe). */
  public boolean merged() {
    return mergedRanges != null;
  }

  /** The byte ranges whose concatenation is the tensor: its merged ranges, else its one {@link #byteRange()}. */
  public List<ByteRange> byteRanges() {
    return merged() ? mergedRanges : List.of(byteRange());
  }

  /**
   * The tensor's bytes as one range of its file. Conversion is range copies, so only C-contiguous
   * tensors lying inside their storage qualify; anything else fails naming the file and key.
   */
  public ByteRange byteRange() {
    if (merged()) {
      throw new IllegalArgumentException(
          file + ": tensor '" + key() + "' is assembled from several ranges; it is no single byte range");
    }
    if (!tensor.contiguous()) {
      throw new IllegalArgumentException(
          file + ": tensor '" + key() + "' is a strided view (shape " + tensor.shape() + ", stride "
              + tensor.stride() + "); only contiguous tensors can be converted");
    }
    long start = tensor.storageOffset() * tensor.dtype().size();
    if (start + tensor.byteLength() > tensor.storageBytes()) {
      throw new IllegalArgumentException(
          file + ": tensor '" + key() + "' (" + tensor.byteLength() + " bytes at element "
              + tensor.storageOffset() + ") runs past the end of its storage of " + tensor.storageBytes() + " bytes");
    }
    return new ByteRange(file, tensor.fileOffset(), tensor.byteLength());
  }
}
