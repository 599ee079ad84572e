package org.sat2diffusers.pipeline.runner;

import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** The Spark master URLs --spark-master accepts: embedded {@code local[N]} or a standalone cluster. */
public final class SparkMasters {
  private static final Pattern LOCAL = Pattern.compile("local(\\[([1-9][0-9]*|\\*)])?");
  private static final Pattern STANDALONE =
      Pattern.compile("spark://[A-Za-z0-9.\\-]+:[0-9]{1,5}(,[A-Za-z0-9.\\-]+:[0-9]{1,5})*");

  private SparkMasters() {}

  /** {@code local[N]} with one worker thread per available processor. */
  public static String localWithAllProcessors() {
    return "local[" + Runtime.getRuntime().availableProcessors() + "]";
  }

  public static boolean isLocal(String master) {
    return LOCAL.matcher(master).matches();
  }

  public static boolean isValid(String master) {
    return isLocal(master) || STANDALONE.matcher(master).matches();
  }

  /** Rejects anything else while the command line is parsed, so it is a usage error (exit 2). */
  public static final class Converter implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      if (!isValid(value)) {
        throw new TypeConversionException(
            "'" + value + "' is not a Spark master this tool runs on: use local[N], local[*] or spark://HOST:PORT");
      }
      return value;
    }
  }
}
