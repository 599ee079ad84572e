package org.sat2diffusers.pipeline.cli;

import org.sat2diffusers.pipeline.runner.RunnerOptions;
import picocli.CommandLine.Option;

/** Where a run's workers leave their outcomes for the process that started it ({@code convert}, {@code to-sat}). */
final class RunLogOptions {
  @Option(names = "--temp-location", paramLabel = "DIR",
      description = "Where workers leave the run's outcomes for this process. Default: this machine's temp folder"
          + " with embedded runners; OUTPUT/.sat2diffusers-runs on a cluster (it must be storage both can reach).")
  String tempLocation;

  /**
   * --temp-location, else the local temp folder when the workers are this machine's, else a folder in
   * {@code output} (absolute), which both the workers and this process reach.
   */
  String runLogDir(RunnerOptions runner, String output) {
    if (tempLocation != null) {
      return Paths2.absolute(tempLocation);
    }
    if (runner.workersAreLocal()) {
      return Paths2.absolute(System.getProperty("java.io.tmpdir"));
    }
    return output + "/.sat2diffusers-runs";
  }
}
