package org.sat2diffusers.io.dcp;

import java.io.IOException;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.dcp.DcpException.Problem;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.pickle.InertObject;
import org.sat2diffusers.io.pickle.PickleGlobal;
import org.sat2diffusers.io.pickle.PickleLimits;
import org.sat2diffusers.io.pickle.PickleReader;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.torch.TensorRanges;
import org.sat2diffusers.io.torch.TensorRecipe;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.io.torch.TorchPickle;

/**
 * A {@code torch.distributed.checkpoint} folder (torch 2.6 FileSystemWriter): {@code .metadata}, a
 * pickled {@code Metadata} naming every tensor's dtype, size and chunks and, per chunk, the {@code
 * .distcp} file and byte range holding it; each chunk's bytes are a complete torch.save zip of that
 * chunk (filesystem.py _write_item). The metadata is read with the restricted unpickler, only the
 * DCP metadata classes allowed ({@link DcpMetadataResolver}); tensors are assembled from their
 * chunks as recipes. Chunks split along dim 0 (what FSDP1/FSDP2 sharded state dicts and a single
 * process write) concatenate; any other split is refused.
 */
public final class DcpCheckpoint {
  /** A 5B model's metadata, optimizer included, is a few MB. */
  private static final int MAX_METADATA_BYTES = 256 << 20;
  private static final String METADATA = ".metadata";
  private static final Map<String, Dtype> DTYPES = Map.ofEntries(
      Map.entry("torch.float32", Dtype.F32), Map.entry("torch.float16", Dtype.F16),
      Map.entry("torch.bfloat16", Dtype.BF16), Map.entry("torch.float64", Dtype.F64),
      Map.entry("torch.int64", Dtype.I64), Map.entry("torch.int32", Dtype.I32),
      Map.entry("torch.int16", Dtype.I16), Map.entry("torch.int8", Dtype.I8),
      Map.entry("torch.uint8", Dtype.U8), Map.entry("torch.bool", Dtype.BOOL));

  /** Where one chunk lies: its place in the tensor and its torch.save zip in a .distcp file. */
  public record Chunk(List<Long> offsets, List<Long> sizes, String file, long offset, long length) {}

  /** A tensor as the metadata describes it; no data read. */
  public record DcpTensor(String key, Dtype dtype, List<Long> shape, List<Chunk> chunks) {}

  private final String folder;
  private final List<DcpTensor> tensors;
  private final SourceOpener opener;

  private DcpCheckpoint(String folder, List<DcpTensor> tensors, SourceOpener opener) {
    this.folder = folder;
    this.tensors = tensors;
    this.opener = opener;
  }

  public static boolean isDcpFolder(String folder) throws IOException {
    return StorageFiles.exists(folder + "/" + METADATA);
  }

  /** Reads {@code folder/.metadata}; no .distcp byte is read. */
  public static DcpCheckpoint open(String folder) throws IOException {
    return open(folder, RandomAccessInputs::open);
  }

  /** As {@link #open(String)}, every file (the metadata now, the .distcp files later) opened by {@code opener}. */
  public static DcpCheckpoint open(String folder, SourceOpener opener) throws IOException {
    String dir = StorageFiles.isLocal(folder) ? Paths.get(folder).toAbsolutePath().normalize().toString() : folder;
    String metadataFile = dir + "/" + METADATA;
    if (!StorageFiles.exists(metadataFile)) {
      throw new DcpException(Problem.NOT_A_DCP_CHECKPOINT, metadataFile, "no .metadata: not a torch.distributed.checkpoint folder");
    }
    byte[] bytes;
    try (RandomAccessInput in = opener.open(metadataFile)) {
      if (in.size() > MAX_METADATA_BYTES) {
        throw new DcpException(Problem.MALFORMED_METADATA, metadataFile, in.size() + " bytes, more than the "
            + MAX_METADATA_BYTES + " a checkpoint's metadata can have");
      }
      bytes = new byte[(int) in.size()];
      in.readFully(0, bytes, 0, bytes.length);
    }
    return new DcpCheckpoint(dir, parseMetadata(bytes, metadataFile, dir, PickleLimits.DEFAULT), opener);
  }

  /**
   * The tensors a {@code .metadata} pickle describes, their chunks' files resolved in {@code
   * folder}; every refusal is a {@link DcpException} naming {@code metadataFile}.
   */
  public static List<DcpTensor> parseMetadata(byte[] bytes, String metadataFile, String folder, PickleLimits limits)
      throws DcpException {
    Object root;
    try {
      root = PickleReader.read(bytes, metadataFile, new DcpMetadataResolver(), limits);
    } catch (IOException e) {
      throw new DcpException(Problem.MALFORMED_METADATA, metadataFile, e.getMessage());
    }
    return new MetadataParser(metadataFile, folder).tensors(root);
  }

  public String folder() {
    return folder;
  }

  /** Every tensor of the checkpoint (model and optimizer), in the metadata's order. */
  public List<DcpTensor> tensors() {
    return tensors;
  }

  /** Recipes of the tensors whose key starts with {@code prefix} (e.g. {@code app.model.}), keys as saved. */
  public List<TensorRecipe> recipes(String prefix) throws IOException {
    Map<String, RandomAccessInput> inputs = new HashMap<>();
    try {
      List<TensorRecipe> recipes = new ArrayList<>();
      for (DcpTensor tensor : tensors) {
        if (tensor.key().startsWith(prefix)) {
          recipes.add(recipe(tensor, inputs));
        }
      }
      return recipes;
    } finally {
      for (RandomAccessInput in : inputs.values()) {
        in.close();
      }
    }
  }

  private TensorRecipe recipe(DcpTensor tensor, Map<String, RandomAccessInput> inputs) throws IOException {
    List<Chunk> chunks = new ArrayList<>(tensor.chunks());
    String where = "tensor '" + tensor.key() + "' " + tensor.shape();
    List<Long> shape = tensor.shape();
    for (Chunk chunk : chunks) {
      for (int d = 1; d < shape.size(); d++) {
        if (chunk.offsets().get(d) != 0 || !chunk.sizes().get(d).equals(shape.get(d))) {
          throw new DcpException(Problem.UNSUPPORTED_CHUNKING, chunk.file(), where + " has a chunk at " + chunk.offsets()
              + " of size " + chunk.sizes() + ": only chunks split along dim 0 are read");
        }
      }
    }
    chunks.sort(Comparator.comparing(c -> c.offsets().isEmpty() ? 0L : c.offsets().get(0)));
    long next = 0;
    List<ByteRange> ranges = new ArrayList<>();
    for (Chunk chunk : chunks) {
      long first = shape.isEmpty() ? 0 : chunk.offsets().get(0);
      if (first != next) {
        throw new DcpException(Problem.CHUNKS_DO_NOT_TILE, chunk.file(), where + ": a chunk starts at row " + first
            + " where row " + next + " was expected (gap or overlap)");
      }
      next += shape.isEmpty() ? 1 : chunk.sizes().get(0);
      ranges.addAll(chunkRanges(tensor, chunk, inputs));
    }
    long rows = shape.isEmpty() ? 1 : shape.get(0);
    if (next != rows) {
      throw new DcpException(Problem.CHUNKS_DO_NOT_TILE, chunks.isEmpty() ? "(no chunk)" : chunks.get(0).file(),
          where + ": the chunks cover " + next + " of " + rows + " rows");
    }
    return new TensorRecipe(tensor.key(), tensor.dtype(), shape, ranges);
  }

  /** Reads the chunk's zip directory and pickle: where in the .distcp file its elements lie. */
  private List<ByteRange> chunkRanges(DcpTensor tensor, Chunk chunk, Map<String, RandomAccessInput> inputs)
      throws IOException {
    RandomAccessInput file = inputs.get(chunk.file());
    if (file == null) {
      if (!StorageFiles.exists(chunk.file())) {
        throw new DcpException(Problem.MISSING_DATA, chunk.file(), "missing: .metadata puts chunks of '" + tensor.key()
            + "' there");
      }
      file = opener.open(chunk.file());
      inputs.put(chunk.file(), file);
    }
    if (chunk.offset() + chunk.length() > file.size()) {
      throw new DcpException(Problem.MISSING_DATA, chunk.file(), "has " + file.size() + " bytes, but the chunk of '"
          + tensor.key() + "' at " + chunk.offsets() + " should lie at bytes " + chunk.offset() + "+" + chunk.length());
    }
    ChunkInput in = new ChunkInput(file, chunk.offset(), chunk.length(), "chunk of '" + tensor.key() + "' at " + chunk.offsets());
    TensorRecord record;
    try {
      TorchPickle pickle = new TorchCheckpointReader().read(in);
      record = pickle.tensor(tensor.key(), pickle.root());
    } catch (DcpException e) {
      throw e;
    } catch (IOException e) {
      throw new DcpException(Problem.BAD_CHUNK, chunk.file(), "the chunk of '" + tensor.key() + "' at bytes "
          + chunk.offset() + "+" + chunk.length() + " is not a torch.save tensor: " + e.getMessage());
    }
    if (record.dtype() != tensor.dtype() || !record.shape().equals(chunk.sizes())) {
      throw new DcpException(Problem.BAD_CHUNK, chunk.file(), "the chunk of '" + tensor.key() + "' at " + chunk.offsets()
          + " holds " + record.dtype() + " " + record.shape() + ", the metadata says " + tensor.dtype() + " " + chunk.sizes());
    }
    List<ByteRange> ranges = new ArrayList<>();
    for (ByteRange range : TensorRanges.ranges(chunk.file(), record)) {
      ranges.add(new ByteRange(chunk.file(), in.start() + range.offset(), range.length()));
    }
    return ranges;
  }

  /** Turns the inert Metadata object into tensor descriptions, each mismatch naming the metadata file. */
  private record MetadataParser(String file, String folder) {
    List<DcpTensor> tensors(Object root) throws DcpException {
      Map<?, ?> metadata = fields(root, "Metadata");
      Map<String, List<Object[]>> storage = storage(map(metadata.get("storage_data"), "storage_data"));
      List<DcpTensor> tensors = new ArrayList<>();
      for (Map.Entry<?, ?> entry : map(metadata.get("state_dict_metadata"), "state_dict_metadata").entrySet()) {
        String key = String.valueOf(entry.getKey());
        if (entry.getValue() instanceof InertObject o && o.typeName().endsWith(".BytesStorageMetadata")) {
          continue; // a pickled non-tensor value (optimizer hyper-parameters)
        }
        Map<?, ?> meta = fields(entry.getValue(), "TensorStorageMetadata");
        Dtype dtype = dtype(key, meta.get("properties"));
        List<Long> shape = longs(meta.get("size"), key + ".size");
        List<Chunk> chunks = new ArrayList<>();
        for (Object chunkValue : list(meta.get("chunks"), key + ".chunks")) {
          Map<?, ?> chunk = fields(chunkValue, "ChunkStorageMetadata");
          List<Long> offsets = longs(chunk.get("offsets"), key + " chunk offsets");
          List<Long> sizes = longs(chunk.get("sizes"), key + " chunk sizes");
          if (offsets.size() != shape.size() || sizes.size() != shape.size()) {
            throw malformed("tensor '" + key + "' " + shape + " has a chunk at " + offsets + " of size " + sizes);
          }
          Object[] where = storage.getOrDefault(key, List.of()).stream()
              .filter(s -> offsets.equals(s[0])).findFirst()
              .orElseThrow(() -> malformed("no storage_data entry for the chunk of '" + key + "' at " + offsets));
          chunks.add(new Chunk(offsets, sizes, (String) where[1], (Long) where[2], (Long) where[3]));
        }
        tensors.add(new DcpTensor(key, dtype, shape, chunks));
      }
      return tensors;
    }

    /** storage_data: {MetadataIndex(fqn, offset, index): _StorageInfo(relative_path, offset, length)} by fqn. */
    private Map<String, List<Object[]>> storage(Map<?, ?> storageData) throws DcpException {
      Map<String, List<Object[]>> byKey = new LinkedHashMap<>();
      for (Map.Entry<?, ?> entry : storageData.entrySet()) {
        Map<?, ?> index = fields(entry.getKey(), "MetadataIndex");
        Map<?, ?> info = fields(entry.getValue(), "_StorageInfo");
        if (!(index.get("fqn") instanceof String fqn) || !(info.get("relative_path") instanceof String relative)
            || !(info.get("offset") instanceof Long offset) || !(info.get("length") instanceof Long length)
            || offset < 0 || length < 0) {
          throw malformed("a storage_data entry lacks fqn / relative_path / offset / length");
        }
        if (relative.isEmpty() || relative.contains("/") || relative.contains("\\") || relative.startsWith(".")) {
          throw malformed("'" + fqn + "' is stored in '" + relative + "', not a file of this folder");
        }
        // a pickled non-tensor value (BytesStorageMetadata) has no chunk offset
        List<Long> chunkOffset = index.get("offset") == null ? null : longs(index.get("offset"), fqn + " index offset");
        byKey.computeIfAbsent(fqn, k -> new ArrayList<>())
            .add(new Object[] {chunkOffset, folder + "/" + relative, offset, length});
      }
      return byKey;
    }

    /** TensorProperties pickles its state as (dtype, layout, requires_grad, memory_format, pin_memory). */
    private Dtype dtype(String key, Object properties) throws DcpException {
      if (!(properties instanceof InertObject o) || !o.typeName().endsWith(".TensorProperties")) {
        throw malformed("tensor '" + key + "' has no TensorProperties");
      }
      Object dtype = o.state() instanceof List<?> state && !state.isEmpty() ? state.get(0)
          : o.state() instanceof Map<?, ?> state ? state.get("dtype") : null;
      if (dtype instanceof PickleGlobal global && DTYPES.containsKey(global.qualifiedName())) {
        return DTYPES.get(global.qualifiedName());
      }
      throw malformed("tensor '" + key + "' has dtype " + PickleReader.describe(dtype) + ", which is not read here");
    }

    private Map<?, ?> fields(Object value, String className) throws DcpException {
      if (value instanceof InertObject o && o.typeName().endsWith("." + className) && o.state() instanceof Map<?, ?> state) {
        return state;
      }
      throw malformed("expected a " + className + ", found " + PickleReader.describe(value));
    }

    private Map<?, ?> map(Object value, String what) throws DcpException {
      if (value instanceof Map<?, ?> m) {
        return m;
      }
      throw malformed(what + " should be a dict, but is " + PickleReader.describe(value));
    }

    private List<?> list(Object value, String what) throws DcpException {
      if (value instanceof List<?> l) {
        return l;
      }
      throw malformed(what + " should be a list, but is " + PickleReader.describe(value));
    }

    private List<Long> longs(Object value, String what) throws DcpException {
      List<Long> out = new ArrayList<>();
      for (Object item : list(value, what)) {
        if (!(item instanceof Long n) || n < 0) {
          throw malformed(what + " should hold non-negative ints, but holds " + PickleReader.describe(item));
        }
        out.add(n);
      }
      return out;
    }

    private DcpException malformed(String detail) {
      return new DcpException(Problem.MALFORMED_METADATA, file, detail);
    }
  }
}
