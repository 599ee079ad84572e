package org.sat2diffusers.pipeline.cli;

import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * Builds Beam's options registry on a thread of its own while the main thread reads the command
 * line. The registry is built on first use: it loads every options interface the jar registers and
 * checks each against all the others, the largest single part of a conversion's start-up (in a
 * profile of a small fixture's conversion, about half of all Java samples). picocli's parsing, until
 * then on the same thread, overlaps it on the second core; the command's first use of Beam options
 * waits for it (class initialization). A failure is left to that first use to report.
 */
public final class BeamWarmUp {
  private BeamWarmUp() {}

  /** Starts the warm-up for a command that runs Beam ({@code convert}); any other: nothing. */
  public static void startFor(String[] args) {
    if (args.length == 0 || !args[0].equals("convert")) {
      return;
    }
    Thread warmUp = new Thread(() -> {
      try {
        PipelineOptionsFactory.create();
      } catch (RuntimeException | LinkageError e) {
        // the command's own use of Beam options fails the same way, with its message
      }
    }, "beam-warm-up");
    warmUp.setDaemon(true);
    warmUp.start();
  }
}
