package org.sat2diffusers.io.json;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/**
 * Python's {@code repr(float)}: the shortest decimal that reads back as the same double (the closest
 * such one when several have that length), in fixed notation for decimal exponents -4..15 and
 * {@code 1e-05} / {@code 1.5e+20} style otherwise; integral values keep a {@code .0}. Java 17's
 * {@code Double.toString} is not always shortest (JDK-4511638, fixed in 19), so the digits are
 * searched for here.
 */
public final class PythonFloats {
  private static final int MAX_SIGNIFICANT_DIGITS = 17; // always enough to round-trip a double

  private PythonFloats() {}

  /** {@code repr(value)} for finite values; {@code inf}, {@code -inf}, {@code nan} like Python. */
  public static String repr(double value) {
    if (Double.isNaN(value)) {
      return "nan";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "inf" : "-inf";
    }
    String sign = (Double.doubleToRawLongBits(value) < 0) ? "-" : "";
    if (value == 0) {
      return sign + "0.0";
    }
    BigDecimal shortest = shortestRoundTrip(Math.abs(value)).stripTrailingZeros();
    String digits = shortest.unscaledValue().toString();
    int pointPosition = digits.length() - shortest.scale(); // value = 0.<digits> * 10^pointPosition
    return sign + format(digits, pointPosition);
  }

  /** The shortest decimal reading back as {@code magnitude}; of two such with equal length, the closer. */
  private static BigDecimal shortestRoundTrip(double magnitude) {
    BigDecimal exact = new BigDecimal(magnitude);
    for (int precision = 1; precision <= MAX_SIGNIFICANT_DIGITS; precision++) {
      BigDecimal below = exact.round(new MathContext(precision, RoundingMode.FLOOR));
      BigDecimal above = exact.round(new MathContext(precision, RoundingMode.CEILING));
      boolean belowWorks = readsBackAs(below, magnitude);
      boolean aboveWorks = readsBackAs(above, magnitude);
      if (belowWorks && aboveWorks) {
        return exact.round(new MathContext(precision, RoundingMode.HALF_EVEN));
      }
      if (belowWorks) {
        return below;
      }
      if (aboveWorks) {
        return above;
      }
    }
    throw new AssertionError("no " + MAX_SIGNIFICANT_DIGITS + "-digit decimal reads back as " + magnitude);
  }

  private static boolean readsBackAs(BigDecimal candidate, double magnitude) {
    return Double.parseDouble(candidate.toString()) == magnitude;
  }

  private static String format(String digits, int pointPosition) {
    int exponent = pointPosition - 1; // of d.ddd x 10^exponent
    if (exponent < -4 || exponent >= 16) {
      String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      return mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
    if (pointPosition <= 0) {
      return "0." + "0".repeat(-pointPosition) + digits;
    }
    if (pointPosition < digits.length()) {
      return digits.substring(0, pointPosition) + "." + digits.substring(pointPosition);
    }
    return digits + "0".repeat(pointPosition - digits.length()) + ".0";
  }
}
