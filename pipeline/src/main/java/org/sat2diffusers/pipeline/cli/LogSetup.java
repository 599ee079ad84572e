package org.sat2diffusers.pipeline.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * Console logging for people or for log systems: concise lines by default, one JSON object per line
 * with {@code --log-format json}, per-tensor detail with {@code --verbose}. Everything (Beam and
 * Spark included, through slf4j-jdk14) goes through java.util.logging to standard error.
 */
public final class LogSetup {
  /** The values of --log-format. */
  public enum Format {
    human,
    json
  }

  /**
   * Our own loggers: the only ones --verbose opens up to per-tensor detail. Held here because
   * java.util.logging keeps loggers weakly: a level set on one nobody holds is lost at the next GC.
   */
  private static final List<Logger> OURS =
      List.of(Logger.getLogger("sat2diffusers"), Logger.getLogger("org.sat2diffusers"));

  private LogSetup() {}

  public static void configure(Format format, boolean verbose, PrintStream stream) {
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    Handler handler = new StreamHandler(stream, format == Format.json ? new JsonLines() : new HumanLines()) {
      @Override
      public synchronized void publish(LogRecord record) {
        super.publish(record);
        flush();
      }
    };
    handler.setLevel(Level.FINE);
    root.addHandler(handler);
    root.setLevel(Level.WARNING); // libraries (Beam, Spark, Hadoop, AWS, netlib): warnings and errors only
    for (Logger ours : OURS) {
      ours.setLevel(verbose ? Level.FINE : Level.INFO);
    }
  }

  /** {@code message}, prefixed by "warning: " or "error: " when it is one. */
  static final class HumanLines extends Formatter {
    @Override
    public String format(LogRecord record) {
      String prefix = record.getLevel().intValue() >= Level.SEVERE.intValue() ? "error: "
          : record.getLevel().intValue() >= Level.WARNING.intValue() ? "warning: " : "";
      String thrown = record.getThrown() == null ? "" : " (" + record.getThrown() + ")";
      return prefix + formatMessage(record) + thrown + System.lineSeparator();
    }
  }

  /** {"time", "level", "logger", "message"} per line. */
  static final class JsonLines extends Formatter {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public String format(LogRecord record) {
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("time", Instant.ofEpochMilli(record.getMillis()).toString());
      line.put("level", record.getLevel().getName());
      line.put("logger", record.getLoggerName());
      line.put("message", formatMessage(record));
      if (record.getThrown() != null) {
        line.put("error", record.getThrown().toString());
      }
      try {
        return JSON.writeValueAsString(line) + System.lineSeparator();
      } catch (Exception e) {
        return "{\"message\":\"unformattable log record\"}" + System.lineSeparator();
      }
    }
  }
}
