package org.sat2diffusers.io.torch;

import java.util.List;

/** A tensor as {@code torch._utils._rebuild_tensor_v2} describes it: a view of a storage, no bytes. */
record StoredTensor(StorageRef storage, long storageOffset, List<Long> shape, List<Long> stride) {}
