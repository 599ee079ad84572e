package org.sat2diffusers.io.torch;

import java.util.List;
import java.util.Map;

/**
 * A tensor as {@code torch._utils._rebuild_tensor_v2} describes it: a view of a storage, no bytes.
 * {@code attributes} are the Python attributes a tensor subclass pickle carries ({@code
 * _rebuild_from_type_v2}'s state, e.g. SAT's {@code ds_shape}); empty for a plain tensor.
 */
record StoredTensor(
    StorageRef storage, long storageOffset, List<Long> shape, List<Long> stride, Map<String, Object> attributes) {

  StoredTensor(StorageRef storage, long storageOffset, List<Long> shape, List<Long> stride) {
    this(storage, storageOffset, shape, stride, Map.of());
  }
}
