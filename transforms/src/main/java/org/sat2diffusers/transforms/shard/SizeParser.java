package org.sat2diffusers.transforms.shard;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses shard size limits as the Hugging Face libraries write them: {@code 10GB}, {@code 20KB},
 * {@code 5GiB}, {@code 1000}. KB/MB/GB/TB are decimal (10^3 ...), KiB/MiB/GiB/TiB binary (2^10 ...), a
 * bare number is bytes; units are case-insensitive and a fractional value is truncated to whole bytes.
 */
public final class SizeParser {
  private static final Map<String, Long> UNITS = Map.of(
      "", 1L,
      "B", 1L,
      "KB", 1_000L,
      "MB", 1_000_000L,
      "GB", 1_000_000_000L,
      "TB", 1_000_000_000_000L,
      "KIB", 1L << 10,
      "MIB", 1L << 20,
      "GIB", 1L << 30,
      "TIB", 1L << 40);

  private static final Pattern SIZE = Pattern.compile("^\\s*(\\d+(?:\\.\\d*)?|\\.\\d+)\\s*([A-Za-z]*)\\s*$");

  private SizeParser() {}

  public static long parse(String text) {
    Matcher m = SIZE.matcher(text == null ? "" : text);
    Long multiplier = m.matches() ? UNITS.get(m.group(2).toUpperCase(Locale.ROOT)) : null;
    if (multiplier == null) {
      throw new IllegalArgumentException(
          "cannot parse size '" + text + "': expected a number with an optional unit KB, MB, GB, TB, KiB, MiB, GiB or TiB");
    }
    long bytes;
    try {
      bytes = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(multiplier)).setScale(0, RoundingMode.DOWN).longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("size '" + text + "' is too large", e);
    }
    if (bytes <= 0) {
      throw new IllegalArgumentException("size '" + text + "' must be at least one byte");
    }
    return bytes;
  }
}
