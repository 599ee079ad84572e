package org.sat2diffusers.transforms.plan;

import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.torch.TensorRecord;

/** Contiguous source tensors for rule tests, each in its own storage at a distinct offset. */
public final class TestTensors {
  private static long nextOffset = 64;

  private TestTensors() {}

  public static SourceTensor source(String file, String key, Dtype dtype, long... shape) {
    return source(file, key, dtype, List.of(), shape);
  }

  public static SourceTensor source(String file, String key, Dtype dtype, List<String> sharedWith, long... shape) {
    List<Long> dims = new ArrayList<>();
    List<Long> stride = new ArrayList<>();
    long numel = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      dims.add(0, shape[i]);
      stride.add(0, numel);
      numel *= shape[i];
    }
    long offset = nextOffset;
    nextOffset += numel * dtype.size() + 64;
    return new SourceTensor(file, new TensorRecord(
        key, dtype, dims, stride, key, 0, offset, numel * dtype.size(), sharedWith));
  }
}
