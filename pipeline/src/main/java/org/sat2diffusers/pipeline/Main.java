package org.sat2diffusers.pipeline;

import org.sat2diffusers.pipeline.steps.Version;
import org.sat2diffusers.pipeline.cli.BeamWarmUp;
import org.sat2diffusers.pipeline.cli.ConvertCommand;
import org.sat2diffusers.pipeline.cli.InspectCommand;
import org.sat2diffusers.pipeline.cli.VerifyCommand;
import org.sat2diffusers.pipeline.cli.MergeLoraCommand;
import org.sat2diffusers.pipeline.cli.ToSatCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sat2diffusers} command line. */
@Command(
    name = "sat2diffusers",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = "Converts SwissArmyTransformer (SAT) CogVideoX checkpoints to Hugging Face Diffusers folders.",
    subcommands = {ConvertCommand.class, InspectCommand.class, VerifyCommand.class, MergeLoraCommand.class,
        ToSatCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a command: convert, inspect, verify, merge-lora or to-sat");
  }

  public static void main(String[] args) {
    BeamWarmUp.startFor(args);
    System.exit(new CommandLine(new Main()).execute(args));
  }
}
