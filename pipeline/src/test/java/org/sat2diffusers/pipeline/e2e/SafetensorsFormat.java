package org.sat2diffusers.pipeline.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format rules, checked on a file's raw bytes without the project's reader: an
 * 8-byte little-endian header length, a JSON header padded with spaces so the data starts on an
 * 8-byte boundary, and data offsets that tile the data section exactly, with the byte length
 * dtype x shape asks for.
 */
final class SafetensorsFormat {
  private static final Map<String, Integer> DTYPE_BYTES = Map.of(
      "F64", 8, "F32", 4, "F16", 2, "BF16", 2, "I64", 8, "I32", 4, "I16", 2, "I8", 1, "U8", 1, "BOOL", 1);

  private record Span(String name, long begin, long end) {}

  private SafetensorsFormat() {}

  /** Every rule {@code file} breaks, each naming the tensor or the byte concerned; empty when it follows the format. */
  static List<String> problems(byte[] file) {
    List<String> problems = new ArrayList<>();
    if (file.length < 8) {
      return List.of(file.length + " bytes, fewer than the 8-byte header length");
    }
    long headerLength = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLength < 0 || headerLength > file.length - 8) {
      return List.of("header length " + headerLength + " runs past the end of the " + file.length + "-byte file");
    }
    int dataStart = 8 + (int) headerLength;
    if (dataStart % 8 != 0) {
      problems.add("data starts at byte " + dataStart + ", not on an 8-byte boundary");
    }
    String header = new String(file, 8, (int) headerLength, StandardCharsets.UTF_8);
    String unpadded = header.replaceAll(" +$", "");
    if (!unpadded.endsWith("}")) {
      problems.add("header is not a JSON object followed by space padding");
    }
    JsonNode tensors;
    try {
      tensors = TestData.json(unpadded.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      problems.add("header is not JSON: " + e.getMessage());
      return problems;
    }
    List<Span> spans = new ArrayList<>();
    tensors.fields().forEachRemaining(field -> {
      if (field.getKey().equals("__metadata__")) {
        field.getValue().fields().forEachRemaining(m -> {
          if (!m.getValue().isTextual()) {
            problems.add("__metadata__ value of " + m.getKey() + " is not a string");
          }
        });
        return;
      }
      Span span = span(field.getKey(), field.getValue(), problems);
      if (span != null) {
        spans.add(span);
      }
    });
    spans.sort(Comparator.comparingLong(Span::begin));
    long position = 0;
    for (Span s : spans) {
      if (s.begin() != position) {
        problems.add(s.name() + ": begins at data byte " + s.begin() + " where " + position + " was expected (gap or overlap)");
      }
      position = Math.max(position, s.end());
    }
    if (dataStart + position != file.length) {
      problems.add("the tensors cover " + position + " data bytes but the data section has " + (file.length - dataStart));
    }
    return problems;
  }

  private static Span span(String name, JsonNode info, List<String> problems) {
    Integer size = DTYPE_BYTES.get(info.path("dtype").asText());
    JsonNode offsets = info.path("data_offsets");
    if (size == null || !info.path("shape").isArray() || offsets.size() != 2) {
      problems.add(name + ": expected a known dtype, a shape and two data_offsets, got " + info);
      return null;
    }
    long elements = 1;
    for (JsonNode d : info.get("shape")) {
      elements *= d.asLong();
    }
    Span span = new Span(name, offsets.get(0).asLong(), offsets.get(1).asLong());
    if (span.end() - span.begin() != elements * size) {
      problems.add(name + ": data_offsets hold " + (span.end() - span.begin()) + " bytes, "
          + info.get("dtype").asText() + " " + info.get("shape") + " needs " + elements * size);
    }
    return span;
  }
}
