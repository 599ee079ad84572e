package org.sat2diffusers.transforms.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SizeParserTest {
  @Test
  void decimalUnits() {
    assertEquals(10_000_000_000L, SizeParser.parse("10GB"));
    assertEquals(20_000L, SizeParser.parse("20KB"));
    assertEquals(5_000_000L, SizeParser.parse("5mb"));
    assertEquals(1_500_000_000L, SizeParser.parse("1.5GB"));
  }

  @Test
  void binaryUnits() {
    assertEquals(5L * 1024 * 1024 * 1024, SizeParser.parse("5GiB"));
    assertEquals(2L * 1024 * 1024, SizeParser.parse(" 2 MiB "));
    assertEquals(3L * 1024, SizeParser.parse("3KIB"));
  }

  @Test
  void bareNumbersAreBytes() {
    assertEquals(1000L, SizeParser.parse("1000"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "10XB", "-1GB", "GB", "0", "1e3", "99999999999TB"})
  void rejectsWhatIsNoSize(String text) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SizeParser.parse(text));
    assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
  }
}
