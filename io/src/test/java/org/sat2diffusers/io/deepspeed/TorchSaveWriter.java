package org.sat2diffusers.io.deepspeed;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.CheckedOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a torch.save zip (uncompressed entries {@code <top>/data.pkl}, {@code <top>/data/<key>},
 * {@code <top>/byteorder}, {@code <top>/version}) whose pickle is built from plain Java values, and
 * whose storages are streamed from generators: files larger than the heap, for memory tests. The
 * pickle is protocol 2 as torch.save writes it.
 */
final class TorchSaveWriter {
  /** A Python tuple. */
  record Tuple(List<Object> items) {}

  /** {@code torch.Size(...)}. */
  record Size(List<Long> sizes) {}

  /** A storage of {@code numel} elements of {@code storageClass} ("FloatStorage"), its bytes from {@code bytes}. */
  record Storage(String key, String storageClass, int elementSize, long numel, Generator bytes) {}

  /** A contiguous tensor: a view of {@code storage} from {@code offset} (elements) with {@code shape}. */
  record Tensor(Storage storage, long offset, List<Long> shape) {}

  /** A dict pickled as {@code collections.OrderedDict}. */
  record Ordered(Map<String, Object> map) {}

  interface Generator {
    /** Writes the storage's bytes, the same each call. */
    void write(OutputStream out) throws IOException;
  }

  private final ByteArrayOutputStream pickle = new ByteArrayOutputStream();
  private final List<Storage> storages = new ArrayList<>();

  private TorchSaveWriter() {}

  static void save(Object root, Path file) throws IOException {
    TorchSaveWriter writer = new TorchSaveWriter();
    writer.op(0x80, 2);
    writer.value(root);
    writer.op('.');
    String top = file.getFileName().toString().replaceAll("\\.pt$", "");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
      stored(zip, top + "/data.pkl", writer.pickle.toByteArray());
      stored(zip, top + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
      for (Storage storage : writer.storages) {
        CRC32 crc = new CRC32();
        try (CheckedOutputStream checked = new CheckedOutputStream(OutputStream.nullOutputStream(), crc)) {
          storage.bytes().write(checked);
        }
        ZipEntry entry = new ZipEntry(top + "/data/" + storage.key());
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(storage.numel() * storage.elementSize());
        entry.setCompressedSize(storage.numel() * storage.elementSize());
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        storage.bytes().write(new NonClosing(zip));
        zip.closeEntry();
      }
      stored(zip, top + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    }
  }

  private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
    ZipEntry entry = new ZipEntry(name);
    entry.setMethod(ZipEntry.STORED);
    entry.setSize(bytes.length);
    entry.setCompressedSize(bytes.length);
    CRC32 crc = new CRC32();
    crc.update(bytes);
    entry.setCrc(crc.getValue());
    zip.putNextEntry(entry);
    zip.write(bytes);
    zip.closeEntry();
  }

  private void value(Object value) {
    if (value == null) {
      op('N');
    } else if (value instanceof Boolean b) {
      op(b ? 0x88 : 0x89);
    } else if (value instanceof Long n) {
      op(0x8a, 8); // LONG1 of 8 bytes
      for (int i = 0; i < 8; i++) {
        op((int) (n >> (8 * i)) & 0xff);
      }
    } else if (value instanceof Integer n) {
      value((long) n);
    } else if (value instanceof String s) {
      byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
      op('X');
      u32(utf8.length);
      pickle.writeBytes(utf8);
    } else if (value instanceof Tuple t) {
      op('(');
      t.items().forEach(this::value);
      op('t');
    } else if (value instanceof Size s) {
      global("torch", "Size");
      op('(');
      s.sizes().forEach(this::value);
      op('t', 0x85, 'R');
    } else if (value instanceof List<?> list) {
      op(']', '(');
      list.forEach(this::value);
      op('e');
    } else if (value instanceof Ordered o) {
      global("collections", "OrderedDict");
      op(')', 'R');
      items(o.map());
    } else if (value instanceof Map<?, ?> map) {
      op('}');
      items(map);
    } else if (value instanceof Tensor t) {
      tensor(t);
    } else {
      throw new IllegalArgumentException("cannot pickle " + value.getClass());
    }
  }

  private void items(Map<?, ?> map) {
    op('(');
    for (Map.Entry<?, ?> e : map.entrySet()) {
      value(e.getKey());
      value(e.getValue());
    }
    op('u');
  }

  /** {@code torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())}. */
  private void tensor(Tensor t) {
    Storage s = t.storage();
    if (!storages.contains(s)) {
      storages.add(s);
    }
    global("torch._utils", "_rebuild_tensor_v2");
    op('(');
    op('(');
    value("storage");
    global("torch", s.storageClass());
    value(s.key());
    value("cpu");
    value(s.numel());
    op('t', 'Q');
    value(t.offset());
    List<Object> shape = new ArrayList<>(t.shape());
    List<Object> stride = new ArrayList<>();
    long step = 1;
    for (int i = t.shape().size() - 1; i >= 0; i--) {
      stride.add(0, step);
      step *= t.shape().get(i);
    }
    value(new Tuple(shape));
    value(new Tuple(stride));
    value(Boolean.FALSE);
    global("collections", "OrderedDict");
    op(')', 'R');
    op('t', 'R');
  }

  private void global(String module, String name) {
    op('c');
    pickle.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
  }

  private void op(int... bytes) {
    for (int b : bytes) {
      pickle.write(b);
    }
  }

  private void u32(int v) {
    op(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff);
  }

  /** The zip stream stays open after a generator's write. */
  private static final class NonClosing extends java.io.FilterOutputStream {
    NonClosing(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
