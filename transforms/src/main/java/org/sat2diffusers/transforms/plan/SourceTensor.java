package org.sat2diffusers.transforms.plan;

import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.torch.TensorRecord;

/**
 * A tensor record with the file that holds it: one checkpoint may span several files (the released
 * layout keeps the transformer and the VAE apart).
 */
public record SourceTensor(String file, TensorRecord tensor) {
  public String key() {
    return tensor.key();
  }

  /**
   * The tensor's bytes as one range of its file. Conversion is range copies, so only C-contiguous
   * tensors lying inside their storage qualify; anything else fails naming the file and key.
   */
  public ByteRange byteRange() {
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
