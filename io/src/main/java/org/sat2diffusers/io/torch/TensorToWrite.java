package org.sat2diffusers.io.torch;

import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;

/**
 * One state-dict entry of a checkpoint being written: a view ({@code storageOffset}, {@code shape},
 * {@code stride}, in elements, as torch defines them) of a {@link Storage}. Tensors given the same
 * {@code Storage} object share it in the file, as tied weights do in torch.
 */
public record TensorToWrite(String name, Storage storage, long storageOffset, List<Long> shape, List<Long> stride) {
  /** A storage: its element type and where its bytes come from. Shared by identity. */
  public static final class Storage {
    private final Dtype dtype;
    private final StorageSource source;

    public Storage(Dtype dtype, StorageSource source) {
      this.dtype = dtype;
      this.source = source;
    }

    public Dtype dtype() {
      return dtype;
    }

    public StorageSource source() {
      return source;
    }
  }

  public TensorToWrite {
    shape = List.copyOf(shape);
    stride = List.copyOf(stride);
  }

  /** A tensor with a storage of its own holding exactly its elements, row-major. */
  public static TensorToWrite contiguous(String name, Dtype dtype, List<Long> shape, StorageSource source) {
    return new TensorToWrite(name, new Storage(dtype, source), 0, shape, rowMajorStrides(shape));
  }

  /** The strides of a row-major (C-contiguous) tensor of {@code shape}, as torch gives them. */
  public static List<Long> rowMajorStrides(List<Long> shape) {
    List<Long> strides = new ArrayList<>(shape.size());
    long stride = 1;
    for (int i = shape.size() - 1; i >= 0; i--) {
      strides.add(0, stride);
      stride *= Math.max(1, shape.get(i));
    }
    return strides;
  }

  public Dtype dtype() {
    return storage.dtype();
  }
}
