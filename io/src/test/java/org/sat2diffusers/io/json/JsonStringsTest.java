package org.sat2diffusers.io.json;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Expected literals are what Python 3's json.dumps writes for the same string (ensure_ascii on and off). */
class JsonStringsTest {
  private static final String TEXT = "a\"b\\c\n\r\t\b\f\u0001\u001f\u007f\u00fc\ud83d\ude00 ~";

  @Test
  void quoteEscapesOnlyQuoteBackslashAndControlCharactersAsSerdeJsonDoes() {
    assertEquals("\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\u007f\u00fc\ud83d\ude00 ~\"", JsonStrings.quote(TEXT));
  }

  @Test
  void quoteAsciiAlsoEscapesDelAndEveryNonAsciiUnitAsPythonDoes() {
    assertEquals("\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\\u00fc\\ud83d\\ude00 ~\"", JsonStrings.quoteAscii(TEXT));
  }
}
