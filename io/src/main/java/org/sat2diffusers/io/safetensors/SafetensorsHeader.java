package org.sat2diffusers.io.safetensors;

import static org.sat2diffusers.io.json.JsonStrings.quote;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.sat2diffusers.io.dtype.Dtype;

/**
 * The planned layout of a safetensors file, as the reference writer lays one out: tensors ordered by
 * dtype (largest first, in the reference's dtype order) then name, their data tiling the data
 * section, a compact JSON header with {@code __metadata__} first, padded with spaces so the data
 * starts on an 8-byte boundary. Knowing every tensor's absolute offset and the file size up front
 * lets a writer place tensors in any order, or in parallel.
 */
public final class SafetensorsHeader {
  /** Layout order of the reference writer (its Dtype enum, descending), restricted to our dtypes. */
  private static final List<Dtype> LAYOUT_ORDER = List.of(
      Dtype.I64, Dtype.F64, Dtype.F32, Dtype.I32, Dtype.BF16, Dtype.F16, Dtype.I16, Dtype.I8, Dtype.U8, Dtype.BOOL);
  private static final Comparator<TensorSpec> LAYOUT =
      Comparator.<TensorSpec>comparingInt(t -> LAYOUT_ORDER.indexOf(t.dtype()))
          .thenComparing((a, b) -> Arrays.compareUnsigned(utf8(a.name()), utf8(b.name()))); // Rust orders str by bytes

  static {
    if (LAYOUT_ORDER.size() != Dtype.values().length) {
      throw new IllegalStateException("LAYOUT_ORDER must rank every Dtype");
    }
  }

  private final List<SafetensorsEntry> entries;
  private final Map<String, SafetensorsEntry> byName;
  private final Map<String, String> metadata;
  private final byte[] bytes;

  private SafetensorsHeader(List<SafetensorsEntry> entries, Map<String, String> metadata, byte[] bytes) {
    this.entries = entries;
    this.metadata = metadata;
    this.bytes = bytes;
    Map<String, SafetensorsEntry> index = new LinkedHashMap<>();
    entries.forEach(e -> index.put(e.name(), e));
    this.byName = Collections.unmodifiableMap(index);
  }

  /**
   * Lays out {@code tensors} (any order) with metadata {@code {"format": "pt", ...extraMetadata}}.
   * Throws IllegalArgumentException for a duplicate or reserved name, or a {@code format} key in
   * the extra metadata.
   */
  public static SafetensorsHeader plan(List<TensorSpec> tensors, Map<String, String> extraMetadata) {
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", "pt");
    for (Map.Entry<String, String> extra : extraMetadata.entrySet()) {
      if (metadata.putIfAbsent(extra.getKey(), extra.getValue()) != null) {
        throw new IllegalArgumentException("metadata key '" + extra.getKey() + "' is reserved");
      }
    }
    Set<String> names = new HashSet<>();
    for (TensorSpec t : tensors) {
      if (t.name().equals("__metadata__") || !names.add(t.name())) {
        throw new IllegalArgumentException("tensor name '" + t.name() + "' is reserved or used twice");
      }
    }
    List<TensorSpec> ordered = new ArrayList<>(tensors);
    ordered.sort(LAYOUT);

    StringBuilder json = new StringBuilder("{\"__metadata__\":{");
    String separator = "";
    for (Map.Entry<String, String> m : metadata.entrySet()) {
      json.append(separator).append(quote(m.getKey())).append(':').append(quote(m.getValue()));
      separator = ",";
    }
    json.append('}');
    long[] begins = new long[ordered.size()]; // relative to the data section
    long dataOffset = 0;
    for (int i = 0; i < ordered.size(); i++) {
      TensorSpec t = ordered.get(i);
      begins[i] = dataOffset;
      dataOffset = Math.addExact(dataOffset, t.byteLength());
      json.append(',').append(quote(t.name())).append(":{\"dtype\":\"").append(t.dtype().safetensorsName())
          .append("\",\"shape\":[");
      json.append(t.shape().stream().map(String::valueOf).collect(Collectors.joining(",")));
      json.append("],\"data_offsets\":[").append(begins[i]).append(',').append(dataOffset).append("]}");
    }
    json.append('}');

    byte[] header = utf8(json.toString());
    int padded = (header.length + 7) / 8 * 8;
    ByteBuffer bytes = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    bytes.putLong(padded).put(header);
    while (bytes.hasRemaining()) {
      bytes.put((byte) ' ');
    }
    long dataStart = 8L + padded;
    List<SafetensorsEntry> entries = new ArrayList<>();
    for (int i = 0; i < ordered.size(); i++) {
      TensorSpec t = ordered.get(i);
      entries.add(new SafetensorsEntry(t.name(), t.dtype(), t.shape(), dataStart + begins[i]));
    }
    return new SafetensorsHeader(List.copyOf(entries), Collections.unmodifiableMap(metadata), bytes.array());
  }

  /** The tensors in layout (file) order, with absolute offsets. */
  public List<SafetensorsEntry> entries() {
    return entries;
  }

  /** The entry named {@code name}; IllegalArgumentException if there is none. */
  public SafetensorsEntry entry(String name) {
    SafetensorsEntry entry = byName.get(name);
    if (entry == null) {
      throw new IllegalArgumentException("no tensor '" + name + "' in this header");
    }
    return entry;
  }

  /** The {@code __metadata__} strings, {@code format} first. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The first bytes of the file: the 8-byte length, the JSON and its padding. */
  public byte[] bytes() {
    return bytes.clone();
  }

  /** Absolute position of the data section (a multiple of 8). */
  public long dataStart() {
    return bytes.length;
  }

  public long fileSize() {
    return entries.isEmpty() ? dataStart() : entries.get(entries.size() - 1).end();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
