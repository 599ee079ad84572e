package org.sat2diffusers.io.torch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.pickle.PickleException;
import org.sat2diffusers.io.pickle.PickleGlobal;
import org.sat2diffusers.io.pickle.PickleReader;
import org.sat2diffusers.io.pickle.PickleResolver;

/**
 * The torch part of a checkpoint's pickle, as torch's {@code weights_only} unpickler allows it:
 * storages from persistent ids, tensors and parameters rebuilt as {@link StoredTensor} descriptors,
 * {@code torch.Size} as a list. Every other global stays an inert placeholder; the reader decides
 * whether one is acceptable where it was found.
 */
final class TorchPickleResolver implements PickleResolver {
  private static final Map<String, Dtype> STORAGE_DTYPES = Map.ofEntries(
      Map.entry("HalfStorage", Dtype.F16),
      Map.entry("BFloat16Storage", Dtype.BF16),
      Map.entry("FloatStorage", Dtype.F32),
      Map.entry("DoubleStorage", Dtype.F64),
      Map.entry("LongStorage", Dtype.I64),
      Map.entry("IntStorage", Dtype.I32),
      Map.entry("ShortStorage", Dtype.I16),
      Map.entry("CharStorage", Dtype.I8),
      Map.entry("ByteStorage", Dtype.U8),
      Map.entry("BoolStorage", Dtype.BOOL),
      // torch 2 writes this only for a bare UntypedStorage, which torch itself loads as bytes
      Map.entry("UntypedStorage", Dtype.U8));

  private final Map<String, StorageRef> storages = new HashMap<>();

  @Override
  public Object persistentLoad(Object pid) throws PickleException {
    if (!(pid instanceof List<?> id) || id.size() != 5 || !"storage".equals(id.get(0))) {
      throw new PickleException("persistent id " + PickleReader.describe(pid) + " is not a torch storage id");
    }
    if (!(id.get(1) instanceof PickleGlobal type) || !type.module().equals("torch")
        || !STORAGE_DTYPES.containsKey(type.name())) {
      throw new PickleException("unknown storage type " + PickleReader.describe(id.get(1)));
    }
    if (!(id.get(2) instanceof String key) || !(id.get(3) instanceof String location)
        || !(id.get(4) instanceof Long numel) || numel < 0) {
      throw new PickleException("malformed storage id for " + type + ": " + id.size() + " fields, "
          + PickleReader.describe(id.get(2)) + ", " + PickleReader.describe(id.get(4)));
    }
    StorageRef storage = new StorageRef(key, STORAGE_DTYPES.get(type.name()), location, numel);
    StorageRef earlier = storages.putIfAbsent(key, storage);
    if (earlier != null && !earlier.equals(storage)) {
      throw new PickleException("storage '" + key + "' is declared twice, as " + earlier + " and " + storage);
    }
    return storage;
  }

  @Override
  public Object call(PickleGlobal callable, List<Object> args) throws PickleException {
    switch (callable.qualifiedName()) {
      case "torch._utils._rebuild_tensor_v2":
        return rebuildTensor(callable, args, 6);
      case "torch._utils._rebuild_tensor":
        return rebuildTensor(callable, args, 4);
      case "torch._utils._rebuild_parameter":
      case "torch._utils._rebuild_parameter_with_state":
        if (args.isEmpty() || !(args.get(0) instanceof StoredTensor tensor)) {
          throw new PickleException(callable + " expects a tensor as its first argument, got "
              + PickleReader.describe(args.isEmpty() ? null : args.get(0)));
        }
        return tensor;
      case "torch._tensor._rebuild_from_type_v2":
        // (func, type, args, state): a tensor subclass; the descriptor is what func rebuilds
        if (args.size() != 4 || !(args.get(0) instanceof PickleGlobal func) || !(args.get(2) instanceof List<?> inner)) {
          throw new PickleException(callable + " expects (func, type, args, state), got " + args.size() + " arguments");
        }
        Object rebuilt = call(func, new ArrayList<>(inner));
        Map<String, Object> attributes = attributes(args.get(3));
        if (rebuilt instanceof StoredTensor tensor && !attributes.isEmpty()) {
          return new StoredTensor(tensor.storage(), tensor.storageOffset(), tensor.shape(), tensor.stride(), attributes);
        }
        return rebuilt;
      case "torch.Size":
        return args.isEmpty() ? List.of() : longs(callable, "its argument", args.get(0));
      default:
        return PickleResolver.super.call(callable, args);
    }
  }

  /**
   * The state {@code Tensor._reduce_ex_internal} pickles for a subclass: the instance {@code
   * __dict__}, or {@code (__dict__, slots)}; string-keyed entries are kept as plain data.
   */
  private static Map<String, Object> attributes(Object state) {
    Object dict = state instanceof List<?> pair && !pair.isEmpty() ? pair.get(0) : state;
    Map<String, Object> attributes = new LinkedHashMap<>();
    if (dict instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        if (entry.getKey() instanceof String name) {
          attributes.put(name, entry.getValue());
        }
      }
    }
    return attributes;
  }

  /** {@code (storage, storage_offset, size, stride, ...)}; the rest (requires_grad, hooks, metadata) does not matter here. */
  private static StoredTensor rebuildTensor(PickleGlobal callable, List<Object> args, int minArgs)
      throws PickleException {
    if (args.size() < minArgs || !(args.get(0) instanceof StorageRef storage)) {
      throw new PickleException(
          callable + " expects a storage and " + (minArgs - 1) + " more arguments, got " + args.size()
              + " arguments starting with " + PickleReader.describe(args.isEmpty() ? null : args.get(0)));
    }
    if (!(args.get(1) instanceof Long offset) || offset < 0) {
      throw new PickleException(callable + ": storage offset must be a non-negative int, got "
          + PickleReader.describe(args.get(1)));
    }
    List<Long> shape = longs(callable, "size", args.get(2));
    List<Long> stride = longs(callable, "stride", args.get(3));
    if (shape.size() != stride.size()) {
      throw new PickleException(callable + ": size " + shape + " and stride " + stride + " differ in length");
    }
    return new StoredTensor(storage, offset, shape, stride);
  }

  private static List<Long> longs(PickleGlobal callable, String what, Object value) throws PickleException {
    if (!(value instanceof List<?> items)) {
      throw new PickleException(callable + ": " + what + " must be a tuple of ints, got " + PickleReader.describe(value));
    }
    List<Long> result = new ArrayList<>(items.size());
    for (Object item : items) {
      if (!(item instanceof Long n) || n < 0) {
        throw new PickleException(callable + ": " + what + " must hold non-negative ints, got "
            + PickleReader.describe(item));
      }
      result.add(n);
    }
    return List.copyOf(result);
  }
}
