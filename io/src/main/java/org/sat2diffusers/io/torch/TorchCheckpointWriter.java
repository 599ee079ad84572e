package org.sat2diffusers.io.torch;

import static org.sat2diffusers.io.torch.CheckpointWriteException.Problem.DUPLICATE_NAME;
import static org.sat2diffusers.io.torch.CheckpointWriteException.Problem.INVALID_SHAPE;
import static org.sat2diffusers.io.torch.CheckpointWriteException.Problem.INVALID_VALUE;
import static org.sat2diffusers.io.torch.CheckpointWriteException.Problem.OUT_OF_STORAGE;
import static org.sat2diffusers.io.torch.CheckpointWriteException.Problem.SOURCE_LENGTH;
import static org.sat2diffusers.io.torch.CheckpointWriteException.Problem.STORAGE_SIZE;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.CRC32;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.pickle.PickleGlobal;
import org.sat2diffusers.io.pickle.PickleWriter;
import org.sat2diffusers.io.pickle.PickleWriter.PersistentId;
import org.sat2diffusers.io.pickle.PickleWriter.Reduce;
import org.sat2diffusers.io.pickle.PickleWriter.Tuple;
import org.sat2diffusers.io.storage.RangeCopier;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.zip.ZipArchiveWriter;

/**
 * Writes {@code {"module": OrderedDict(name -> tensor), **values}} as {@code torch.save} does (the
 * zip format, see {@link ZipArchiveWriter}), the layout {@link TorchCheckpointReader} reads and
 * {@code torch.load(..., weights_only=True)} accepts.
 *
 * <p>The pickle is what torch's pickler emits for such a dict, with only the globals the restricted
 * readers allow: {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2(storage,
 * offset, size, stride, False, OrderedDict())} and the typed storage classes, storages as persistent
 * ids {@code ("storage", torch.XxxStorage, key, "cpu", numel)}. Storage keys are numbered in order
 * of first use, as torch numbers them. The records follow in torch 2's order: {@code data.pkl},
 * {@code byteorder}, {@code data/<key>} in key order, {@code version} (3), {@code
 * .data/serialization_id}. Storage bytes stream from their {@link StorageSource}s through one buffer.
 */
public final class TorchCheckpointWriter {
  /** Where SAT and DeepSpeed keep the state dict. */
  public static final String STATE_DICT_KEY = "module";

  private static final PickleGlobal ORDERED_DICT = new PickleGlobal("collections", "OrderedDict");
  private static final PickleGlobal REBUILD_TENSOR = new PickleGlobal("torch._utils", "_rebuild_tensor_v2");
  private static final Map<Dtype, String> STORAGE_CLASSES = Map.of(
      Dtype.F64, "DoubleStorage", Dtype.F32, "FloatStorage", Dtype.F16, "HalfStorage",
      Dtype.BF16, "BFloat16Storage", Dtype.I64, "LongStorage", Dtype.I32, "IntStorage",
      Dtype.I16, "ShortStorage", Dtype.I8, "CharStorage", Dtype.U8, "ByteStorage", Dtype.BOOL, "BoolStorage");
  // one object each, as in torch, so the pickle refers back to them as torch's does
  private static final String STORAGE = "storage";
  private static final String CPU = "cpu";
  private static final int HEADER_BUFFER_BYTES = 1 << 16;
  /** torch's kProducedFileFormatVersion for torch.save. */
  private static final String VERSION = "3\n";

  /**
   * What was written.
   *
   * @param fileBytes bytes in the file
   * @param storages storage records written (tensors sharing one count once)
   */
  public record Written(long fileBytes, int storages) {}

  private final int bufferBytes;

  /** With the buffer size of {@link RangeCopier#DEFAULT_BUFFER_BYTES}. */
  public TorchCheckpointWriter() {
    this(RangeCopier.DEFAULT_BUFFER_BYTES);
  }

  /** Storage bytes pass through one buffer of {@code bufferBytes}. */
  public TorchCheckpointWriter(int bufferBytes) {
    if (bufferBytes <= 0) {
      throw new IllegalArgumentException("buffer size must be positive, got " + bufferBytes);
    }
    this.bufferBytes = bufferBytes;
  }

  /**
   * Creates {@code path} on any Beam file system (a local path, s3://, hdfs://, ...) and writes the
   * checkpoint into it; when writing fails, the partial file is deleted before the error is thrown.
   */
  public Written write(String path, List<TensorToWrite> tensors, Map<String, Object> values) throws IOException {
    // everything that can be checked before the file exists is
    Contents contents = contents(path, tensors, values);
    try (WritableByteChannel channel = StorageFiles.create(path)) {
      return write(path, channel, contents);
    } catch (IOException | RuntimeException e) {
      try {
        StorageFiles.delete(List.of(path));
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * Writes the checkpoint into {@code out} from its current position, front to back; {@code out} is
   * not closed. {@code path} names the file in messages and, as in torch.save, gives the archive's
   * top folder (its file name without the extension).
   *
   * @param tensors the state dict under {@code "module"}, in this order
   * @param values further top-level entries after {@code "module"}: None, bool, int or str
   */
  public Written write(String path, WritableByteChannel out, List<TensorToWrite> tensors, Map<String, Object> values)
      throws IOException {
    return write(path, out, contents(path, tensors, values));
  }

  /** The validated contents: storage keys assigned in order of first use. */
  private record Contents(
      List<TensorToWrite> tensors, Map<String, Object> values, Map<TensorToWrite.Storage, String> keys,
      Map<TensorToWrite.Storage, String> firstUser) {}

  private Written write(String path, WritableByteChannel out, Contents contents) throws IOException {
    // headers, descriptors and small storages are tens of bytes each: one write per buffer, not per
    // record; a storage chunk (a whole buffer) goes through in one write
    BufferedOutputStream buffered = new BufferedOutputStream(Channels.newOutputStream(out), HEADER_BUFFER_BYTES);
    Written written = writeRecords(path, buffered, contents);
    buffered.flush();
    return written;
  }

  private Written writeRecords(String path, OutputStream out, Contents contents) throws IOException {
    String top = archiveName(path) + "/";
    ZipArchiveWriter zip = new ZipArchiveWriter(path, out);
    SerializationId id = new SerializationId();
    id.add(top, record(zip, top + "data.pkl", PickleWriter.write(pickleTree(contents))));
    id.add(top, record(zip, top + "byteorder", "little".getBytes(StandardCharsets.US_ASCII)));
    Map<String, TensorToWrite.Storage> byKey = new TreeMap<>(); // torch writes storages in sorted key order
    contents.keys().forEach((storage, key) -> byKey.put(key, storage));
    byte[] buffer = new byte[bufferBytes];
    for (Map.Entry<String, TensorToWrite.Storage> entry : byKey.entrySet()) {
      TensorToWrite.Storage storage = entry.getValue();
      String name = top + "data/" + entry.getKey();
      ZipArchiveWriter.Entry record = zip.entry(name, storage.source().byteLength());
      Guard guard = new Guard(record, path, contents.firstUser().get(storage), storage.source().byteLength());
      storage.source().writeTo(guard, buffer);
      guard.checkComplete();
      record.close();
      id.add(top, name, record.crc(), storage.source().byteLength());
    }
    id.add(top, record(zip, top + "version", VERSION.getBytes(StandardCharsets.US_ASCII)));
    record(zip, top + ".data/serialization_id", id.value().getBytes(StandardCharsets.US_ASCII));
    return new Written(zip.finish(), byKey.size());
  }

  private static Record record(ZipArchiveWriter zip, String name, byte[] bytes) throws IOException {
    ZipArchiveWriter.Entry entry = zip.entry(name, bytes.length);
    entry.write(bytes);
    entry.close();
    return new Record(name, entry.crc(), bytes.length);
  }

  private record Record(String name, long crc, long size) {}

  /**
   * torch's {@code .data/serialization_id}: 20 digits combining the record names, then 20 combining
   * the CRC-32s of the non-empty records written before it, in order (c10::hash_combine). The second
   * half is torch 2's exactly. torch 2 combines the names' C++ std::hash values in the iteration order
   * of an unordered_set, which nothing portable reproduces; here the names' CRC-32s are combined in
   * sorted order. Only torch's usage logging reads the id.
   */
  private static final class SerializationId {
    private final Set<String> names = new TreeSet<>();
    private long crcs;

    void add(String top, Record record) {
      add(top, record.name(), record.crc(), record.size());
    }

    void add(String top, String name, long crc, long size) {
      names.add(name.substring(top.length()));
      if (size > 0) { // torch combines the CRCs of data descriptors; an empty record has none
        crcs = combine(crcs, crc);
      }
    }

    String value() {
      long nameHash = 0;
      for (String name : names) {
        CRC32 crc = new CRC32();
        crc.update(name.getBytes(StandardCharsets.UTF_8));
        nameHash = combine(nameHash, crc.getValue());
      }
      return digits(nameHash) + digits(crcs);
    }

    private static long combine(long seed, long value) {
      return seed ^ (value + 0x9e3779b9L + (seed << 6) + (seed >>> 2));
    }

    private static String digits(long value) {
      String s = Long.toUnsignedString(value);
      return "0".repeat(20 - s.length()) + s;
    }
  }

  /** torch.save's archive name: the file name without folders and without what follows its last dot. */
  static String archiveName(String path) {
    String name = path.substring(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name.isEmpty() ? "archive" : name;
  }

  private static Contents contents(String path, List<TensorToWrite> tensors, Map<String, Object> values)
      throws CheckpointWriteException {
    Set<String> names = new HashSet<>();
    Map<TensorToWrite.Storage, String> keys = new IdentityHashMap<>();
    Map<TensorToWrite.Storage, String> firstUser = new IdentityHashMap<>();
    for (TensorToWrite tensor : tensors) {
      if (!names.add(tensor.name())) {
        throw new CheckpointWriteException(DUPLICATE_NAME, path, tensor.name(), "appears twice in the state dict");
      }
      TensorToWrite.Storage storage = tensor.storage();
      if (!keys.containsKey(storage)) {
        long bytes = storage.source().byteLength();
        if (bytes < 0 || bytes % storage.dtype().size() != 0) {
          throw new CheckpointWriteException(STORAGE_SIZE, path, tensor.name(), "its storage has " + bytes
              + " bytes, not a whole number of " + storage.dtype() + " elements");
        }
        keys.put(storage, String.valueOf(keys.size()));
        firstUser.put(storage, tensor.name());
      }
      checkView(path, tensor);
    }
    for (Map.Entry<String, Object> value : values.entrySet()) {
      Object v = value.getValue();
      if (value.getKey().equals(STATE_DICT_KEY)) {
        throw new CheckpointWriteException(DUPLICATE_NAME, path, value.getKey(),
            "is the state dict's own key; it cannot also be a top-level value");
      }
      // no floats: torch 1.13's weights_only loader has no BINFLOAT opcode
      if (!(v == null || v instanceof Boolean || v instanceof Integer || v instanceof Long || v instanceof String)) {
        throw new CheckpointWriteException(INVALID_VALUE, path, value.getKey(), "a top-level value must be None,"
            + " bool, int or str (what torch.load(weights_only=True) reads in every torch version), not a "
            + v.getClass().getSimpleName());
      }
    }
    return new Contents(List.copyOf(tensors), new LinkedHashMap<>(values), keys, firstUser);
  }

  /** Non-negative sizes and strides of one length; the last element reached lies in the storage. */
  private static void checkView(String path, TensorToWrite tensor) throws CheckpointWriteException {
    List<Long> shape = tensor.shape();
    List<Long> stride = tensor.stride();
    if (shape.size() != stride.size() || tensor.storageOffset() < 0
        || shape.stream().anyMatch(n -> n < 0) || stride.stream().anyMatch(n -> n < 0)) {
      throw new CheckpointWriteException(INVALID_SHAPE, path, tensor.name(), "shape " + shape + ", stride " + stride
          + " and storage offset " + tensor.storageOffset() + " are not a view (non-negative, one stride per size)");
    }
    long numel = tensor.storage().source().byteLength() / tensor.dtype().size();
    try {
      long last = tensor.storageOffset();
      for (int i = 0; i < shape.size(); i++) {
        if (shape.get(i) == 0) {
          return; // an empty tensor reaches nothing
        }
        last = Math.addExact(last, Math.multiplyExact(shape.get(i) - 1, stride.get(i)));
      }
      if (last >= numel) {
        throw new CheckpointWriteException(OUT_OF_STORAGE, path, tensor.name(), "shape " + shape + ", stride "
            + stride + " at offset " + tensor.storageOffset() + " reaches element " + last + ", but its storage has "
            + numel + " " + tensor.dtype() + " elements");
      }
    } catch (ArithmeticException e) {
      throw new CheckpointWriteException(INVALID_SHAPE, path, tensor.name(), "shape " + shape + " x stride "
          + stride + " overflows");
    }
  }

  /** The object tree torch pickles for the checkpoint; a new persistent-id tuple per reference, as torch's. */
  private static Map<String, Object> pickleTree(Contents contents) {
    Map<String, Object> stateDict = new LinkedHashMap<>();
    for (TensorToWrite tensor : contents.tensors()) {
      TensorToWrite.Storage storage = tensor.storage();
      PersistentId storageId = new PersistentId(Tuple.of(
          STORAGE, new PickleGlobal("torch", STORAGE_CLASSES.get(storage.dtype())), contents.keys().get(storage), CPU,
          storage.source().byteLength() / storage.dtype().size()));
      Tuple args = Tuple.of(storageId, tensor.storageOffset(), new Tuple(new ArrayList<>(tensor.shape())),
          new Tuple(new ArrayList<>(tensor.stride())), false, new Reduce(ORDERED_DICT, Tuple.EMPTY, Map.of()));
      stateDict.put(tensor.name(), new Reduce(REBUILD_TENSOR, args, Map.of()));
    }
    Map<String, Object> top = new LinkedHashMap<>();
    top.put(STATE_DICT_KEY, new Reduce(ORDERED_DICT, Tuple.EMPTY, stateDict));
    top.putAll(contents.values());
    return top;
  }

  /** Holds a storage source to the byte count it declared, naming the tensor when it does not. */
  private static final class Guard extends FilterOutputStream {
    private final String path;
    private final String tensor;
    private final long expected;
    private long written;

    Guard(OutputStream out, String path, String tensor, long expected) {
      super(out);
      this.path = path;
      this.tensor = tensor;
      this.expected = expected;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      if (length > expected - written) {
        throw new CheckpointWriteException(SOURCE_LENGTH, path, tensor, "its storage source wrote more than the "
            + expected + " bytes it declared");
      }
      out.write(bytes, offset, length);
      written += length;
    }

    void checkComplete() throws CheckpointWriteException {
      if (written != expected) {
        throw new CheckpointWriteException(SOURCE_LENGTH, path, tensor, "its storage source wrote " + written
            + " of the " + expected + " bytes it declared");
      }
    }
  }
}
