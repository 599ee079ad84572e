package org.sat2diffusers.pipeline.jobs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.sat.IterationSelection;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.storage.TreeListing;
import org.sat2diffusers.transforms.adapter.LoraMode;
import org.sat2diffusers.transforms.config.BasePipeline;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.convert.UnknownKeys;
import org.sat2diffusers.transforms.convert.Weights;

/**
 * The options of one job as given (on the command line, or in one manifest entry), each already
 * checked by its {@link JobOption}; {@link #request} then reads the files they name and makes the
 * {@link JobRequest}. Paths stay as written until then.
 */
public final class JobValues {
  private static final int MAX_SAT_CONFIG_BYTES = 1 << 20;

  final List<String> sources = new ArrayList<>();
  final List<String> sourceRoots = new ArrayList<>();
  IterationSelection iterations;
  String vae;
  String output;
  Double loraAlpha;
  LoraMode loraMode = LoraMode.MERGE;
  boolean loraFoldScale;
  Dtype dtype;
  Dtype vaeDtype;
  long maxShardBytes;
  String model = "auto";
  String satConfig;
  List<Component> components = List.of();
  UnknownKeys unknownKeys = UnknownKeys.FAIL;
  String basePipeline;
  boolean link;
  Digest digest = Digest.CRC32C;
  boolean checkFinite;
  boolean failOnNonfinite;
  Weights weights = Weights.MODULE;
  int maxDepth = TreeListing.DEFAULT_MAX_DEPTH;

  public List<String> sources() {
    return List.copyOf(sources);
  }

  public List<String> sourceRoots() {
    return List.copyOf(sourceRoots);
  }

  /** The output folder as given, or null. */
  public String output() {
    return output;
  }

  /**
   * The combinations of options that cannot work, each a message that names the options as {@code
   * name} spells them ({@code --link} on the command line, {@code link} in a manifest); paths are
   * compared as {@code resolve} makes them.
   */
  public List<String> conflicts(Function<JobOption, String> name, UnaryOperator<String> resolve) {
    List<String> problems = new ArrayList<>();
    if (basePipeline != null && output != null && resolve.apply(basePipeline).equals(resolve.apply(output))) {
      problems.add(name.apply(JobOptions.BASE_PIPELINE) + " and " + name.apply(JobOptions.OUTPUT)
          + " name the same folder: write the complete pipeline elsewhere");
    }
    if (link && basePipeline == null) {
      problems.add(name.apply(JobOptions.LINK) + " needs " + name.apply(JobOptions.BASE_PIPELINE));
    }
    if (loraFoldScale && loraMode == LoraMode.MERGE) {
      problems.add(name.apply(JobOptions.LORA_FOLD_SCALE) + " needs " + name.apply(JobOptions.LORA_MODE)
          + " adapter or both");
    }
    return problems;
  }

  /**
   * The files these options name besides the sources (the SAT config, the base pipeline), each cited
   * by its option's name as {@code name} spells it, paths as {@code resolve} makes them.
   */
  public List<NamedInput> inputs(Function<JobOption, String> name, UnaryOperator<String> resolve) {
    List<NamedInput> inputs = new ArrayList<>();
    if (satConfig != null) {
      inputs.add(new NamedInput(resolve.apply(satConfig), name.apply(JobOptions.SAT_CONFIG)));
    }
    if (basePipeline != null) {
      inputs.add(new NamedInput(resolve.apply(basePipeline), name.apply(JobOptions.BASE_PIPELINE)));
    }
    return inputs;
  }

  /**
   * The request these values make: paths resolved by {@code resolve}, the SAT config and the base
   * pipeline's model_index.json read.
   *
   * @throws OptionException naming the option whose file cannot be used
   */
  public JobRequest request(UnaryOperator<String> resolve) throws OptionException {
    String out = output == null ? null : resolve.apply(output);
    String satConfigYaml = null;
    if (satConfig != null) {
      try {
        satConfigYaml = StorageFiles.readString(resolve.apply(satConfig), MAX_SAT_CONFIG_BYTES);
      } catch (IOException e) {
        throw new OptionException(JobOptions.SAT_CONFIG, e);
      }
    }
    BasePipeline base = null;
    if (basePipeline != null) {
      try {
        base = BasePipelines.read(resolve.apply(basePipeline), link);
      } catch (IOException e) {
        throw new OptionException(JobOptions.BASE_PIPELINE, e);
      }
    }
    ConversionSettings settings =
        new ConversionSettings(loraAlpha, dtype, vaeDtype, maxShardBytes, model, satConfigYaml, components,
            unknownKeys, base, loraMode, loraFoldScale, checkFinite, failOnNonfinite, digest, weights);
    return new JobRequest(sources.stream().map(resolve).toList(), sourceRoots.stream().map(resolve).toList(),
        iterations, out, settings, maxDepth, vae == null ? null : resolve.apply(vae));
  }

  /** A file an option names cannot be used; the message is the cause's. */
  public static final class OptionException extends IOException {
    private final transient JobOption option;

    OptionException(JobOption option, IOException cause) {
      super(cause.getMessage(), cause);
      this.option = option;
    }

    public JobOption option() {
      return option;
    }
  }
}
