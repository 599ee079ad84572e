package org.sat2diffusers.io.json;

/**
 * JSON string literals as the two writers we match produce them: Rust's serde_json (the safetensors
 * header) and Python's {@code json.dumps} with ensure_ascii (Diffusers' JSON files). Both escape
 * quote, backslash and control characters alike; Python also escapes everything past printable ASCII.
 */
public final class JsonStrings {
  private JsonStrings() {}

  /** As serde_json writes it: the short escapes, other control characters as {@code \\uXXXX}, the rest as is. */
  public static String quote(String s) {
    return quote(s, false);
  }

  /** As Python's ensure_ascii writes it: like {@link #quote}, plus DEL and every non-ASCII UTF-16 unit as {@code \\uXXXX}. */
  public static String quoteAscii(String s) {
    return quote(s, true);
  }

  private static String quote(String s, boolean asciiOnly) {
    StringBuilder out = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || (asciiOnly && c >= 0x7f)) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"').toString();
  }
}
