package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.pipeline.Main;
import picocli.CommandLine;

/** The sat2diffusers command line, run in this JVM. */
final class InProcessCli {
  private InProcessCli() {}

  /** Runs {@code convert ARGS... --output OUTPUT EXTRA...} and fails with its messages unless it exits 0. */
  static void convert(List<String> args, Path output, String... extra) {
    List<String> all = new ArrayList<>(List.of("convert"));
    all.addAll(args);
    all.addAll(List.of("--output", output.toString()));
    all.addAll(List.of(extra));
    StringWriter messages = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(messages, true));
    cli.setErr(new PrintWriter(messages, true));
    int exit = cli.execute(all.toArray(String[]::new));
    assertEquals(0, exit, "sat2diffusers " + String.join(" ", all) + " said:\n" + messages);
  }
}
