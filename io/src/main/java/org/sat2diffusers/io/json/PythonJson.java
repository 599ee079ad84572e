package org.sat2diffusers.io.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * JSON text exactly as Python's {@code json.dumps(obj, indent=2, sort_keys=...)} writes it, for a tree
 * of Map (String keys), List, String, Number, Boolean and null: separators {@code ","} and
 * {@code ": "}, {@code {}} / {@code []} for empty containers, ensure_ascii escapes, floats as
 * {@code repr(float)} ({@code NaN}, {@code Infinity}), integers as integers. Diffusers writes
 * config.json, model_index.json and index files this way, plus a final newline ({@link #fileBytes}).
 */
public final class PythonJson {
  private static final String INDENT = "  ";
  private static final JsonMapper READER =
      JsonMapper.builder()
          .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // Python writes NaN and Infinity
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private PythonJson() {}

  /** {@code json.dumps(value, indent=2, sort_keys=sortKeys)}. */
  public static String dumps(Object value, boolean sortKeys) {
    StringBuilder out = new StringBuilder();
    write(value, sortKeys, 0, out);
    return out.toString();
  }

  /** The bytes of a JSON file as Diffusers writes one: {@code json.dumps(value, indent=2, sort_keys=sortKeys) + "\n"}. */
  public static byte[] fileBytes(Object value, boolean sortKeys) {
    return (dumps(value, sortKeys) + "\n").getBytes(StandardCharsets.US_ASCII); // ensure_ascii: pure ASCII
  }

  /**
   * Parses JSON text (NaN and Infinity allowed, as Python reads them) into the tree {@link #dumps}
   * writes: LinkedHashMap in document order, ArrayList, String, Integer/Long/BigInteger, Double,
   * Boolean, null.
   */
  public static Object parse(String text) throws JsonProcessingException {
    return READER.readValue(text, Object.class);
  }

  private static void write(Object value, boolean sortKeys, int depth, StringBuilder out) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof String s) {
      out.append(JsonStrings.quoteAscii(s));
    } else if (value instanceof Boolean b) {
      out.append(b ? "true" : "false");
    } else if (value instanceof Double || value instanceof Float) {
      writeFloat(((Number) value).doubleValue(), out);
    } else if (value instanceof Long || value instanceof Integer || value instanceof Short
        || value instanceof Byte || value instanceof BigInteger) {
      out.append(value);
    } else if (value instanceof Map<?, ?> map) {
      writeObject(map, sortKeys, depth, out);
    } else if (value instanceof Collection<?> list) {
      writeArray(list, sortKeys, depth, out);
    } else {
      throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON: " + value);
    }
  }

  private static void writeFloat(double value, StringBuilder out) {
    if (Double.isNaN(value)) {
      out.append("NaN");
    } else if (Double.isInfinite(value)) {
      out.append(value > 0 ? "Infinity" : "-Infinity");
    } else {
      out.append(PythonFloats.repr(value));
    }
  }

  private static void writeObject(Map<?, ?> map, boolean sortKeys, int depth, StringBuilder out) {
    if (map.isEmpty()) {
      out.append("{}");
      return;
    }
    List<Map.Entry<String, Object>> entries = new ArrayList<>();
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      if (!(entry.getKey() instanceof String key)) {
        throw new IllegalArgumentException("JSON object keys must be strings, got " + entry.getKey());
      }
      entries.add(new AbstractMap.SimpleImmutableEntry<>(key, entry.getValue())); // null values allowed
    }
    if (sortKeys) {
      entries.sort((x, y) -> compareCodePoints(x.getKey(), y.getKey()));
    }
    out.append('{');
    String separator = "";
    for (Map.Entry<String, Object> entry : entries) {
      out.append(separator);
      newline(depth + 1, out);
      out.append(JsonStrings.quoteAscii(entry.getKey()));
      out.append(": ");
      write(entry.getValue(), sortKeys, depth + 1, out);
      separator = ",";
    }
    newline(depth, out);
    out.append('}');
  }

  private static void writeArray(Collection<?> list, boolean sortKeys, int depth, StringBuilder out) {
    if (list.isEmpty()) {
      out.append("[]");
      return;
    }
    out.append('[');
    String separator = "";
    for (Object item : list) {
      out.append(separator);
      newline(depth + 1, out);
      write(item, sortKeys, depth + 1, out);
      separator = ",";
    }
    newline(depth, out);
    out.append(']');
  }

  private static void newline(int depth, StringBuilder out) {
    out.append('\n').append(INDENT.repeat(depth));
  }

  /** Python sorts str keys by code point; String.compareTo compares UTF-16 units, which differs above U+FFFF. */
  private static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Boolean.compare(i < a.length(), j < b.length());
  }
}
