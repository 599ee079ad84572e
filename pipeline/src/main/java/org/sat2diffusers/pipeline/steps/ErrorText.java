package org.sat2diffusers.pipeline.steps;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A readable message from an exception chain: each distinct message once, outermost first, without
 * the class-name prefixes runners add when they wrap (Beam's PipelineExecutionException).
 */
public final class ErrorText {
  private static final Pattern CLASS_PREFIX = Pattern.compile("^([\\w$]+\\.)+[\\w$]*(Exception|Error): ");

  private ErrorText() {}

  public static String of(Throwable error) {
    List<String> parts = new ArrayList<>();
    for (Throwable t = error; t != null; t = t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage();
      while (CLASS_PREFIX.matcher(m).find()) {
        m = CLASS_PREFIX.matcher(m).replaceFirst("");
      }
      String message = m.strip();
      if (!message.isEmpty() && parts.stream().noneMatch(p -> p.contains(message))) {
        parts.add(message);
      }
    }
    return parts.isEmpty() ? error.getClass().getSimpleName() : String.join(": ", parts);
  }
}
