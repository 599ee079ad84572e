package org.sat2diffusers.io.torch;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.zip.ZipArchive;

/**
 * A torch.save file's whole pickled object, for formats whose tensors are not one state dict
 * (DeepSpeed optimizer partitions, a DCP chunk holding a bare tensor): plain values as {@link
 * org.sat2diffusers.io.pickle.PickleReader} gives them, tensors as opaque descriptors that {@link
 * #tensor} turns into {@link TensorRecord}s. No tensor bytes are read.
 */
public final class TorchPickle {
  private final ZipArchive zip;
  private final String top;
  private final Object root;
  private final Map<String, ByteRange> storageRanges = new HashMap<>();

  TorchPickle(ZipArchive zip, String top, Object root) {
    this.zip = zip;
    this.top = top;
    this.root = root;
  }

  public String path() {
    return zip.path();
  }

  /** The unpickled object: maps, lists, numbers, strings, inert objects, and tensor descriptors. */
  public Object root() {
    return root;
  }

  public static boolean isTensor(Object value) {
    return value instanceof StoredTensor;
  }

  /**
   * The record of a tensor found in {@link #root()}, named {@code key} in messages; its storage is
   * located (one local header read) and the view checked to fit it.
   */
  public TensorRecord tensor(String key, Object value) throws IOException {
    if (!(value instanceof StoredTensor tensor)) {
      throw new CheckpointFormatException(
          path() + ": '" + key + "' should be a tensor, but is " + org.sat2diffusers.io.pickle.PickleReader.describe(value));
    }
    StorageRef storage = tensor.storage();
    ByteRange range = storageRanges.get(storage.key());
    if (range == null) {
      range = TorchCheckpointReader.storageRange(zip, top, key, storage);
      storageRanges.put(storage.key(), range);
    }
    TorchCheckpointReader.checkFits(path(), key, tensor);
    return new TensorRecord(
        key, storage.dtype(), tensor.shape(), tensor.stride(), storage.key(), tensor.storageOffset(),
        range.offset(), range.length(), List.of());
  }

  /** The Python attributes a tensor subclass carried (e.g. SAT's {@code ds_shape}); empty for a plain tensor. */
  public static Map<String, Object> attributes(Object value) {
    return value instanceof StoredTensor tensor ? tensor.attributes() : Map.of();
  }

  /** The element type of a tensor descriptor, null for anything else. */
  public static Dtype dtype(Object value) {
    return value instanceof StoredTensor tensor ? tensor.storage().dtype() : null;
  }

  /** The storage location torch recorded ({@code cpu}, {@code cuda:1}), null for anything but a tensor. */
  public static String location(Object value) {
    return value instanceof StoredTensor tensor ? tensor.storage().location() : null;
  }
}
