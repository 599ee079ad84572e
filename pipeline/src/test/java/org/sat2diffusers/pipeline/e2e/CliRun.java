package org.sat2diffusers.pipeline.e2e;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Pattern;
import org.sat2diffusers.pipeline.Main;
import picocli.CommandLine;

/**
 * One in-process run of the {@code sat2diffusers} command line.
 *
 * @param command the arguments, for messages
 * @param exitCode what {@code main} would exit with
 * @param out what the command printed on standard output
 * @param err what was printed on standard error: the command's messages and anything logged there
 */
record CliRun(String command, int exitCode, String out, String err) {
  private static final Pattern STACK_FRAME = Pattern.compile("(?m)^\\s+at [\\w$.]+\\(");

  static CliRun run(Object... args) {
    String[] argv = Arrays.stream(args).map(String::valueOf).toArray(String[]::new);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    ByteArrayOutputStream logged = new ByteArrayOutputStream();
    PrintStream systemErr = System.err;
    int exitCode;
    System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8)); // loggers and stray stack traces
    try {
      CommandLine cli = new CommandLine(new Main());
      cli.setOut(new PrintWriter(out, true));
      cli.setErr(new PrintWriter(err, true));
      exitCode = cli.execute(argv);
    } finally {
      System.setErr(systemErr);
    }
    return new CliRun(String.join(" ", argv), exitCode, out.toString(), err + logged.toString(StandardCharsets.UTF_8));
  }

  /** Fails unless standard error is free of Java exceptions: no exception class names, no stack frames. */
  CliRun assertNoStackTrace() {
    if (err.contains("Exception") || STACK_FRAME.matcher(err).find()) {
      throw new AssertionError("sat2diffusers " + command + " shows a Java exception on stderr:\n" + err);
    }
    return this;
  }

  /** Fails with the command and its output unless it exited with 0. */
  CliRun assertSucceeded() {
    if (exitCode != 0) {
      throw new AssertionError("sat2diffusers " + command + " exited with " + exitCode + "\nstdout:\n" + out + "\nstderr:\n" + err);
    }
    return this;
  }
}
