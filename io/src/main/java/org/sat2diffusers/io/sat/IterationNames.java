package org.sat2diffusers.io.sat;

import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Iteration folder names as SAT writes them: a step number ({@code 1000}), the same with a suffix
 * ({@code 1000-ema}, a distinct checkpoint), or a word ({@code release}).
 */
final class IterationNames {
  private static final Pattern NUMBERED = Pattern.compile("(\\d+)(.*)");

  /** Numbered iterations by number, a plain one before its suffixed variants; then words, alphabetically. */
  static final Comparator<String> ORDER = Comparator
      .comparing((String name) -> number(name) == null)
      .thenComparing(IterationNames::number, Comparator.nullsLast(Comparator.naturalOrder()))
      .thenComparing(Comparator.naturalOrder());

  private IterationNames() {}

  /** The step of a purely numeric name ({@code 1000}), else null ({@code 1000-ema}, {@code release}). */
  static Long step(String name) {
    Matcher m = NUMBERED.matcher(name);
    return m.matches() && m.group(2).isEmpty() ? parse(m.group(1)) : null;
  }

  private static Long number(String name) {
    Matcher m = NUMBERED.matcher(name);
    return m.matches() ? parse(m.group(1)) : null;
  }

  private static Long parse(String digits) {
    // longer than any step count: order it last among the numbered rather than overflow
    return digits.length() > 18 ? Long.MAX_VALUE : Long.parseLong(digits);
  }
}
