package org.sat2diffusers.io.torch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.sat2diffusers.io.pickle.InertObject;
import org.sat2diffusers.io.pickle.PickleGlobal;
import org.sat2diffusers.io.pickle.PickleLimits;
import org.sat2diffusers.io.pickle.PickleReader;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.zip.ZipArchive;
import org.sat2diffusers.io.zip.ZipEntryInfo;

/**
 * Indexes a torch.save checkpoint (zip format) without reading tensor bytes: the zip directory,
 * {@code data.pkl}, and the local header of each storage the state dict uses. The result says, for
 * every tensor, where its bytes are; {@link TensorRanges} turns that into byte ranges.
 */
public final class TorchCheckpointReader {
  /** Keys under which SAT / DeepSpeed / plain torch checkpoints keep the state dict, in the order tried. */
  public static final List<String> WRAPPER_KEYS = List.of("module", "model", "state_dict");

  /** A data.pkl larger than this is not a model checkpoint's (a 5B model's is ~200 KB). */
  public static final int DEFAULT_MAX_PICKLE_BYTES = 256 << 20;

  /** Nesting bound when checking a state dict's non-tensor values for disallowed objects. */
  private static final int MAX_NESTING = 64;

  private final PickleLimits limits;
  private final int maxPickleBytes;

  public TorchCheckpointReader() {
    this(PickleLimits.DEFAULT, DEFAULT_MAX_PICKLE_BYTES);
  }

  public TorchCheckpointReader(PickleLimits limits, int maxPickleBytes) {
    this.limits = limits;
    this.maxPickleBytes = maxPickleBytes;
  }

  /**
   * The file's whole pickled object, for formats whose tensors sit anywhere in it (DeepSpeed
   * optimizer partitions, DCP chunks); {@link #index} is the state-dict view of the same.
   */
  public TorchPickle read(RandomAccessInput in) throws IOException {
    ZipArchive zip = ZipArchive.read(in);
    String top = zip.topFolder() + "/";
    checkByteOrder(zip, top);
    byte[] pickle = zip.readEntry(zip.require(top + "data.pkl"), maxPickleBytes);
    return new TorchPickle(zip, top, PickleReader.read(pickle, in.path() + " (data.pkl)", new TorchPickleResolver(), limits));
  }

  public CheckpointIndex index(RandomAccessInput in) throws IOException {
    String path = in.path();
    ZipArchive zip = ZipArchive.read(in);
    String top = zip.topFolder() + "/";
    checkByteOrder(zip, top);
    byte[] pickle = zip.readEntry(zip.require(top + "data.pkl"), maxPickleBytes);
    Object root = PickleReader.read(pickle, path + " (data.pkl)", new TorchPickleResolver(), limits);
    if (!(root instanceof Map<?, ?> topLevel)) {
      throw new CheckpointFormatException(
          path + ": data.pkl holds " + PickleReader.describe(root) + ", not a dict: not a checkpoint");
    }
    String wrapperKey = wrapperKey(path, topLevel);
    Map<?, ?> stateDict = wrapperKey == null ? topLevel : (Map<?, ?>) topLevel.get(wrapperKey);
    String prefix = wrapperKey == null ? "" : "['" + wrapperKey + "']";

    Map<String, StoredTensor> tensors = new LinkedHashMap<>();
    Map<String, String> otherItems = new LinkedHashMap<>();
    for (Map.Entry<?, ?> entry : stateDict.entrySet()) {
      if (!(entry.getKey() instanceof String key)) {
        throw new CheckpointFormatException(
            path + ": state dict key " + PickleReader.describe(entry.getKey()) + " is not a string");
      }
      if (entry.getValue() instanceof StoredTensor tensor) {
        tensors.put(key, tensor);
      } else {
        String keyPath = prefix + "['" + key + "']";
        rejectDisallowed(path, keyPath, entry.getValue(), new IdentityHashMap<>(), 0);
        otherItems.put(keyPath, describe(entry.getValue()));
      }
    }
    for (Map.Entry<?, ?> entry : topLevel.entrySet()) {
      if (wrapperKey != null && !wrapperKey.equals(entry.getKey())) {
        otherItems.put(String.valueOf(entry.getKey()), describe(entry.getValue()));
      }
    }
    return new CheckpointIndex(path, wrapperKey, records(zip, top, tensors), otherItems);
  }

  /** The key holding the state dict, or null when the top level is itself a dict of tensors. */
  private static String wrapperKey(String path, Map<?, ?> topLevel) throws CheckpointFormatException {
    for (String key : WRAPPER_KEYS) {
      if (topLevel.get(key) instanceof Map<?, ?>) {
        return key;
      }
    }
    if (topLevel.values().stream().anyMatch(v -> v instanceof StoredTensor)) {
      return null;
    }
    throw new CheckpointFormatException(
        path + ": no state dict: none of " + WRAPPER_KEYS + " is a dict, and the top level holds no tensors");
  }

  private static void checkByteOrder(ZipArchive zip, String top) throws IOException {
    Optional<ZipEntryInfo> byteOrder = zip.entry(top + "byteorder");
    if (byteOrder.isPresent()) {
      String order = new String(zip.readEntry(byteOrder.get(), 16), StandardCharsets.US_ASCII).trim();
      if (!order.equals("little")) {
        throw new CheckpointFormatException(
            zip.path() + ": tensors are stored " + order + "-endian; only little-endian checkpoints are supported");
      }
    }
  }

  /**
   * A state dict may hold non-tensor values (None, numbers, nested plain data); an object of any
   * other global there is an error: the state dict is exactly what a conversion trusts.
   */
  private static void rejectDisallowed(
      String path, String keyPath, Object value, Map<Object, Boolean> seen, int depth)
      throws CheckpointFormatException {
    if (value instanceof InertObject || value instanceof PickleGlobal) {
      String name = value instanceof InertObject o ? o.typeName() : ((PickleGlobal) value).qualifiedName();
      throw new CheckpointFormatException(
          path + ": state dict entry " + keyPath + " is a " + name + " object; only tensors and plain"
              + " values are allowed in a state dict, and " + name + " is not on the allowlist");
    }
    if (depth > MAX_NESTING) {
      throw new CheckpointFormatException(
          path + ": state dict entry " + keyPath + " is nested more than " + MAX_NESTING + " levels deep");
    }
    if (seen.put(value, Boolean.TRUE) != null) {
      return;
    }
    if (value instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        String child = keyPath + "[" + entry.getKey() + "]";
        rejectDisallowed(path, child, entry.getKey(), seen, depth + 1);
        rejectDisallowed(path, child, entry.getValue(), seen, depth + 1);
      }
    } else if (value instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        rejectDisallowed(path, keyPath + "[" + i++ + "]", item, seen, depth + 1);
      }
    }
  }

  private static String describe(Object value) {
    if (value instanceof StoredTensor tensor) {
      return "tensor " + tensor.storage().dtype() + " " + tensor.shape();
    }
    return PickleReader.describe(value);
  }

  /** Locates each storage once, checks every tensor fits its storage, and links tensors sharing one. */
  private static List<TensorRecord> records(ZipArchive zip, String top, Map<String, StoredTensor> tensors)
      throws IOException {
    Map<String, ByteRange> storageRanges = new LinkedHashMap<>();
    Map<String, List<String>> keysByStorage = new LinkedHashMap<>();
    for (Map.Entry<String, StoredTensor> entry : tensors.entrySet()) {
      StorageRef storage = entry.getValue().storage();
      if (!storageRanges.containsKey(storage.key())) {
        storageRanges.put(storage.key(), storageRange(zip, top, entry.getKey(), storage));
      }
      keysByStorage.computeIfAbsent(storage.key(), k -> new ArrayList<>()).add(entry.getKey());
    }
    List<TensorRecord> records = new ArrayList<>(tensors.size());
    for (Map.Entry<String, StoredTensor> entry : tensors.entrySet()) {
      String key = entry.getKey();
      StoredTensor tensor = entry.getValue();
      StorageRef storage = tensor.storage();
      checkFits(zip.path(), key, tensor);
      List<String> sharedWith = new ArrayList<>(keysByStorage.get(storage.key()));
      sharedWith.remove(key);
      ByteRange range = storageRanges.get(storage.key());
      records.add(new TensorRecord(
          key, storage.dtype(), tensor.shape(), tensor.stride(), storage.key(), tensor.storageOffset(),
          range.offset(), range.length(), sharedWith));
    }
    return records;
  }

  static ByteRange storageRange(ZipArchive zip, String top, String firstKey, StorageRef storage)
      throws IOException {
    String name = top + "data/" + storage.key();
    ZipEntryInfo entry = zip.entry(name).orElseThrow(() -> new CheckpointFormatException(
        zip.path() + ": tensor '" + firstKey + "' uses storage '" + storage.key() + "', but the archive has no entry '"
            + name + "'"));
    ByteRange range = zip.dataRange(entry);
    int elementSize = storage.dtype().size();
    if (range.length() % elementSize != 0 || range.length() / elementSize != storage.numel()) {
      throw new CheckpointFormatException(
          zip.path() + ": storage '" + storage.key() + "' of tensor '" + firstKey + "' declares " + storage.numel()
              + " " + storage.dtype() + " elements, but its entry '" + name + "' has " + range.length() + " bytes");
    }
    return range;
  }

  /** The last element a view reaches, storage_offset + sum((size - 1) * stride), must lie in the storage. */
  static void checkFits(String path, String key, StoredTensor tensor) throws CheckpointFormatException {
    StorageRef storage = tensor.storage();
    try {
      long last = tensor.storageOffset();
      for (int i = 0; i < tensor.shape().size(); i++) {
        long size = tensor.shape().get(i);
        if (size == 0) {
          return; // an empty tensor reads nothing
        }
        last = Math.addExact(last, Math.multiplyExact(size - 1, tensor.stride().get(i)));
      }
      if (last >= storage.numel()) {
        throw new CheckpointFormatException(
            path + ": tensor '" + key + "' (shape " + tensor.shape() + ", stride " + tensor.stride() + ", offset "
                + tensor.storageOffset() + ") reaches element " + last + ", but its storage '" + storage.key()
                + "' has only " + storage.numel() + " elements");
      }
    } catch (ArithmeticException e) {
      throw new CheckpointFormatException(
          path + ": tensor '" + key + "': shape " + tensor.shape() + " x stride " + tensor.stride() + " overflows");
    }
  }
}
