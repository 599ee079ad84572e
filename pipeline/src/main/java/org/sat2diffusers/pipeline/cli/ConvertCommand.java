package org.sat2diffusers.pipeline.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptions;
import org.sat2diffusers.io.sat.SatCheckpoint;
import org.sat2diffusers.io.sat.SatLayout;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.ConversionPipeline;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.runner.RunnerOptions;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.shard.SizeParser;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code convert}: one SAT checkpoint to one Diffusers folder, on the embedded Beam runner. */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    description = {
      "Converts a SAT CogVideoX checkpoint (run folder, iteration folder, .pt file, or the released"
          + " transformer/ + vae/ layout) into a Diffusers pipeline folder.",
      "Exit codes: 0 everything written; 1 the conversion failed (the message says where and why;"
          + " no output that looks complete is left); 2 usage error."
    },
    sortOptions = false)
public final class ConvertCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--source", required = true, paramLabel = "PATH",
      description = "SAT run folder (its 'latest' picks the iteration), iteration folder, .pt file, or released layout folder.")
  String source;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "The Diffusers folder to write.")
  String output;

  @Option(names = "--lora-alpha", paramLabel = "A",
      description = "SAT lora2 alpha: LoRA updates are scaled by A / r (r from the shapes)."
          + " Default: lora_alpha of --sat-config, else SAT's default of 1.")
  Double loraAlpha;

  @Option(names = "--dtype", defaultValue = "keep", paramLabel = "keep|bf16|fp16|fp32",
      description = "Cast the transformer and text encoder (round to nearest even, as torch). Default: ${DEFAULT-VALUE}.")
  DtypeChoice dtype;

  @Option(names = "--vae-dtype", defaultValue = "keep", paramLabel = "keep|bf16|fp16|fp32",
      description = "Cast the VAE. Default: ${DEFAULT-VALUE} (fp32 as trained).")
  DtypeChoice vaeDtype;

  @Option(names = "--max-shard-size", paramLabel = "SIZE",
      description = "Largest shard, e.g. 10GB, 500MB, 20KB (decimal units; KiB/MiB/GiB binary)."
          + " Default: 10GB for Diffusers components, 5GB for the text encoder.")
  String maxShardSize;

  @Option(names = "--model", defaultValue = "auto", paramLabel = "NAME",
      description = "auto, cogvideox-2b, cogvideox-5b, cogvideox-5b-i2v, cogvideox1.5-5b or cogvideox1.5-5b-i2v:"
          + " the family whose published preset supplies what tensors cannot tell. Default: ${DEFAULT-VALUE}.")
  String model;

  @Option(names = "--sat-config", paramLabel = "FILE.yaml",
      description = "The SAT training YAML (network_config, lora_config), when you have it.")
  String satConfig;

  @Mixin RunnerOptions runner;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter out = spec.commandLine().getOut();
    try {
      PipelineOptions options = runner.pipelineOptions();
      FileSystems.setDefaultPipelineOptions(options);
      SatCheckpoint checkpoint = SatLayout.resolve(Paths2.absolute(source));
      String outputDir = Paths2.absolute(output);
      CheckpointJob job = new CheckpointJob(outputDir, source, checkpoint.iteration(), checkpoint.files(), outputDir, settings());
      out.printf("converting %s (iteration %s, %d file(s)) -> %s%n", source, checkpoint.iteration(), checkpoint.files().size(), output);
      long start = System.nanoTime();
      ConversionPipeline.build(options, List.of(job)).run().waitUntilFinish();
      out.printf("done in %.1f s: %s%n", (System.nanoTime() - start) / 1e9, output);
      return 0;
    } catch (Exception e) {
      err.println("error: " + ErrorMessages.describe(e));
      return 1;
    }
  }

  private ConversionSettings settings() throws IOException {
    long shardBytes = maxShardSize == null ? 0 : SizeParser.parse(maxShardSize);
    String yaml = satConfig == null ? null : StorageFiles.readString(Paths2.absolute(satConfig), 1 << 20);
    return new ConversionSettings(loraAlpha, dtype.dtype(), vaeDtype.dtype(), shardBytes, model, yaml);
  }
}
