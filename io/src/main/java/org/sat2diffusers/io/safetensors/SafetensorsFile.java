package org.sat2diffusers.io.safetensors;

import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.HEADER_TOO_LARGE;
import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.HEADER_TOO_SMALL;
import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.INVALID_HEADER;
import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.INVALID_HEADER_JSON;
import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.INVALID_HEADER_LENGTH;
import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.INVALID_METADATA;
import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.INVALID_OFFSET;
import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.METADATA_INCOMPLETE_BUFFER;
import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.TENSOR_INVALID_INFO;
import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.TENSOR_NOT_FOUND;
import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.UNKNOWN_DTYPE;
import static org.sat2diffusers.io.safetensors.SafetensorsException.Problem.VALIDATION_OVERFLOW;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.io.storage.RandomAccessInput;

/**
 * A validated safetensors file: its tensors (name, dtype, shape, absolute byte range) in header
 * order, its {@code __metadata__}, and reads of a tensor's bytes. {@link #open} checks everything
 * the reference implementation checks before handing out a single byte. The caller keeps
 * ownership of the input (and closes it); like the input, this is not thread-safe.
 */
public final class SafetensorsFile {
  /** The reference's bound on the header length (100 MB). */
  public static final long MAX_HEADER_LENGTH = 100_000_000L;

  private static final JsonMapper JSON = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();
  private static final int READ_CHUNK = 1 << 20;

  private final RandomAccessInput input;
  private final List<SafetensorsEntry> entries;
  private final Map<String, SafetensorsEntry> byName;
  private final Map<String, String> metadata;
  private final long dataStart;

  private SafetensorsFile(RandomAccessInput input, List<SafetensorsEntry> entries, Map<String, String> metadata,
      long dataStart) {
    this.input = input;
    this.entries = List.copyOf(entries);
    this.metadata = Collections.unmodifiableMap(metadata);
    this.dataStart = dataStart;
    Map<String, SafetensorsEntry> index = new LinkedHashMap<>();
    entries.forEach(e -> index.put(e.name(), e));
    this.byName = Collections.unmodifiableMap(index);
  }

  /** Reads and validates the header; throws SafetensorsException naming the file, the tensor and the problem. */
  public static SafetensorsFile open(RandomAccessInput input) throws IOException {
    String path = input.path();
    long size = input.size();
    if (size < 8) {
      throw new SafetensorsException(HEADER_TOO_SMALL, path, null, "file has " + size + " bytes, fewer than the 8-byte header length");
    }
    byte[] lengthBytes = new byte[8];
    input.readFully(0, lengthBytes, 0, 8);
    long headerLength = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLength < 0 || headerLength > MAX_HEADER_LENGTH) {
      throw new SafetensorsException(HEADER_TOO_LARGE, path, null,
          "header length " + Long.toUnsignedString(headerLength) + " is over the limit of " + MAX_HEADER_LENGTH);
    }
    if (headerLength > size - 8) {
      throw new SafetensorsException(INVALID_HEADER_LENGTH, path, null,
          "header length " + headerLength + " runs past the end of the file (" + size + " bytes)");
    }
    byte[] headerBytes = new byte[(int) headerLength];
    input.readFully(8, headerBytes, 0, headerBytes.length);
    long dataStart = 8 + headerLength;
    JsonNode header = parseHeader(path, headerBytes);

    Map<String, String> metadata = new LinkedHashMap<>();
    List<SafetensorsEntry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonNode> field : iterable(header)) {
      if (field.getKey().equals("__metadata__")) {
        readMetadata(path, field.getValue(), metadata);
        continue;
      }
      entries.add(readEntry(path, field.getKey(), field.getValue(), dataStart));
    }
    checkTiling(path, entries, dataStart);
    checkDataEnd(path, entries, dataStart, size);
    return new SafetensorsFile(input, entries, metadata, dataStart);
  }

  private static JsonNode parseHeader(String path, byte[] headerBytes) throws SafetensorsException {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(headerBytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new SafetensorsException(INVALID_HEADER, path, null, "header is not valid UTF-8: " + e);
    }
    JsonNode header;
    try {
      header = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new SafetensorsException(INVALID_HEADER_JSON, path, null, "header is not valid JSON: " + e.getOriginalMessage());
    }
    if (header == null || !header.isObject()) {
      throw new SafetensorsException(INVALID_HEADER_JSON, path, null, "header is not a JSON object");
    }
    return header;
  }

  private static void readMetadata(String path, JsonNode node, Map<String, String> metadata) throws SafetensorsException {
    if (!node.isObject()) {
      throw new SafetensorsException(INVALID_METADATA, path, null, "__metadata__ is " + node.getNodeType() + ", not an object");
    }
    for (Map.Entry<String, JsonNode> m : iterable(node)) {
      if (!m.getValue().isTextual()) {
        throw new SafetensorsException(INVALID_METADATA, path, null, "__metadata__ value of '" + m.getKey() + "' is "
            + m.getValue().getNodeType() + " " + m.getValue() + ", not a string");
      }
      metadata.put(m.getKey(), m.getValue().textValue());
    }
  }

  /** Checks one tensor's description on its own (its neighbours are {@link #checkTiling}'s business). */
  private static SafetensorsEntry readEntry(String path, String name, JsonNode info, long dataStart)
      throws SafetensorsException {
    if (!info.isObject() || !info.path("dtype").isTextual() || !info.path("shape").isArray()
        || !info.path("data_offsets").isArray() || info.get("data_offsets").size() != 2) {
      throw new SafetensorsException(INVALID_HEADER_JSON, path, name,
          "expected {\"dtype\": string, \"shape\": [...], \"data_offsets\": [begin, end]}, got " + info);
    }
    Dtype dtype;
    try {
      dtype = Dtype.fromSafetensorsName(info.get("dtype").textValue());
    } catch (IllegalArgumentException e) {
      throw new SafetensorsException(UNKNOWN_DTYPE, path, name, e.getMessage());
    }
    List<Long> shape = new ArrayList<>();
    for (JsonNode size : info.get("shape")) {
      shape.add(nonNegativeLong(path, name, "shape", size));
    }
    long begin = nonNegativeLong(path, name, "data_offsets", info.get("data_offsets").get(0));
    long end = nonNegativeLong(path, name, "data_offsets", info.get("data_offsets").get(1));
    if (end < begin) {
      throw new SafetensorsException(INVALID_OFFSET, path, name, "data_offsets [" + begin + ", " + end + "] end before they begin");
    }
    long byteLength;
    try {
      byteLength = Shapes.byteLength(dtype, shape);
      Math.addExact(dataStart, end);
    } catch (ArithmeticException e) {
      throw new SafetensorsException(VALIDATION_OVERFLOW, path, name, "shape " + shape + " or offsets overflow 64 bits");
    }
    if (byteLength != end - begin) {
      throw new SafetensorsException(TENSOR_INVALID_INFO, path, name, "data_offsets [" + begin + ", " + end
          + "] give " + (end - begin) + " bytes but " + dtype + " " + shape + " needs " + byteLength);
    }
    return new SafetensorsEntry(name, dtype, shape, dataStart + begin);
  }

  private static long nonNegativeLong(String path, String name, String field, JsonNode node) throws SafetensorsException {
    if (node.isIntegralNumber() && !node.canConvertToLong() && node.bigIntegerValue().signum() > 0) {
      throw new SafetensorsException(VALIDATION_OVERFLOW, path, name, field + " holds " + node + ", over 64 bits");
    }
    if (!node.isIntegralNumber() || !node.canConvertToLong() || node.longValue() < 0) {
      throw new SafetensorsException(INVALID_HEADER_JSON, path, name, field + " holds " + node + ", not a non-negative integer");
    }
    return node.longValue();
  }

  /** Sorted by offset, the tensors must follow each other from the data start with no gap or overlap. */
  private static void checkTiling(String path, List<SafetensorsEntry> entries, long dataStart)
      throws SafetensorsException {
    List<SafetensorsEntry> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparingLong(SafetensorsEntry::offset).thenComparingLong(SafetensorsEntry::end));
    long position = dataStart;
    String previous = null;
    for (SafetensorsEntry entry : sorted) {
      long begin = entry.offset() - dataStart;
      long end = entry.end() - dataStart;
      if (entry.offset() > position) {
        throw new SafetensorsException(INVALID_OFFSET, path, entry.name(), "data_offsets begin at " + begin
            + ", leaving data bytes " + (position - dataStart) + ".." + begin + " unused"
            + (previous == null ? "" : " after tensor '" + previous + "'"));
      }
      if (entry.offset() < position) {
        throw new SafetensorsException(INVALID_OFFSET, path, entry.name(), "data_offsets [" + begin + ", " + end
            + "] overlap tensor '" + previous + "', which ends at " + (position - dataStart));
      }
      position = entry.end();
      previous = entry.name();
    }
  }

  /** The last tensor (the tiling is checked) must end where the file ends: no truncation, no trailing bytes. */
  private static void checkDataEnd(String path, List<SafetensorsEntry> entries, long dataStart, long size)
      throws SafetensorsException {
    SafetensorsEntry last = entries.stream()
        .max(Comparator.comparingLong(SafetensorsEntry::end).thenComparingLong(SafetensorsEntry::offset))
        .orElse(null);
    long dataEnd = last == null ? dataStart : last.end();
    if (dataEnd > size) {
      SafetensorsEntry cut = entries.stream().filter(e -> e.end() > size)
          .min(Comparator.comparingLong(SafetensorsEntry::offset)).orElseThrow();
      throw new SafetensorsException(METADATA_INCOMPLETE_BUFFER, path, cut.name(), "data ends at file byte "
          + cut.end() + " but the file has only " + size + " bytes (truncated?)");
    }
    if (dataEnd < size) {
      throw new SafetensorsException(METADATA_INCOMPLETE_BUFFER, path, last == null ? null : last.name(),
          (size - dataEnd) + " bytes follow the end of the last tensor's data at file byte " + dataEnd);
    }
  }

  private static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode object) {
    return object::fields;
  }

  /** The path of the underlying input. */
  public String path() {
    return input.path();
  }

  /** The tensors in the order the header lists them. */
  public List<SafetensorsEntry> entries() {
    return entries;
  }

  /** The tensor named {@code name}; SafetensorsException TENSOR_NOT_FOUND if there is none. */
  public SafetensorsEntry entry(String name) throws SafetensorsException {
    SafetensorsEntry entry = byName.get(name);
    if (entry == null) {
      throw new SafetensorsException(TENSOR_NOT_FOUND, path(), name, "no such tensor in the header");
    }
    return entry;
  }

  /** The {@code __metadata__} strings in header order (empty when the header has none). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Absolute position of the data section. */
  public long dataStart() {
    return dataStart;
  }

  /** All bytes of one tensor; for tensors of 2 GiB or more use {@link #openTensor}. */
  public byte[] readTensor(String name) throws IOException {
    SafetensorsEntry entry = entry(name);
    if (entry.byteLength() > Integer.MAX_VALUE - 8) {
      throw new IOException(path() + ": tensor '" + name + "' has " + entry.byteLength() + " bytes, too many for one array");
    }
    byte[] bytes = new byte[(int) entry.byteLength()];
    input.readFully(entry.offset(), bytes, 0, bytes.length);
    return bytes;
  }

  /** The bytes of one tensor as a stream, read from the input in chunks of at most 1 MiB. */
  public InputStream openTensor(String name) throws IOException {
    SafetensorsEntry entry = entry(name);
    return new InputStream() {
      private long position = entry.offset();

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] buffer, int offset, int length) throws IOException {
        long left = entry.end() - position;
        if (length == 0) {
          return 0;
        }
        if (left == 0) {
          return -1;
        }
        int n = (int) Math.min(Math.min(length, left), READ_CHUNK);
        input.readFully(position, buffer, offset, n);
        position += n;
        return n;
      }
    };
  }
}
