package org.sat2diffusers.transforms.records;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.io.torch.TensorRecord;

/** Contiguous source tensors for rule tests, each in its own storage at a distinct offset. */
public final class TestTensors {
  private static long nextOffset = 64;

  private TestTensors() {}

  public static SourceTensor source(String file, String key, Dtype dtype, long... shape) {
    return source(file, key, dtype, List.of(), shape);
  }

  public static SourceTensor source(String file, String key, Dtype dtype, List<String> sharedWith, long... shape) {
    TensorRecord record = record(key, dtype, nextOffset, sharedWith, Arrays.stream(shape).boxed().toList());
    nextOffset += record.storageBytes() + 64;
    return new SourceTensor(file, record);
  }

  /** A C-contiguous tensor filling its own storage (named after its key), which starts at {@code fileOffset}. */
  public static TensorRecord record(String key, Dtype dtype, long fileOffset, List<String> sharedWith, List<Long> shape) {
    List<Long> stride = new ArrayList<>();
    long elements = 1;
    for (int i = shape.size() - 1; i >= 0; i--) {
      stride.add(0, elements);
      elements *= shape.get(i);
    }
    return new TensorRecord(key, dtype, shape, stride, key, 0, fileOffset, Shapes.byteLength(dtype, shape), sharedWith);
  }
}
