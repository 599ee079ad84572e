package org.sat2diffusers.pipeline.cli;

import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.safetensors.ShardIndex;
import org.sat2diffusers.io.storage.FileFingerprint;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.steps.Version;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.transforms.adapter.DiffusersLoraMerge;
import org.sat2diffusers.transforms.adapter.PeftLoraConfig;
import org.sat2diffusers.transforms.shard.PlannedShard;
import org.sat2diffusers.transforms.shard.ShardPlanner;
import org.sat2diffusers.transforms.convert.Provenance;
import org.sat2diffusers.pipeline.storage.StorageOptions;
import org.sat2diffusers.pipeline.write.ShardFiles;
import org.sat2diffusers.transforms.records.Component;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code merge-lora}: a Diffusers/PEFT LoRA file merged into a Diffusers model folder, written as a
 * new folder of the same layout. Runs in this process (no Beam pipeline: one model, a few files),
 * through the same shard writer and LoRA kernel as {@code convert}: fp32, one rounding.
 */
@Command(
    name = "merge-lora",
    mixinStandardHelpOptions = true,
    description = {
      "Merges a Diffusers/PEFT LoRA file (lora_A/lora_B keys, with or without the component prefix) into a"
          + " Diffusers model folder (one file or shards with an index), writing the same layout to --output.",
      "Strength: the file's lora_adapter_metadata, else adapter_config.json beside it, else --lora-alpha;"
          + " each module's update is scaled by lora_alpha / r.",
      ExitCodes.HELP
    },
    sortOptions = false)
public final class MergeLoraCommand implements Callable<Integer> {
  private static final String ADAPTER_CONFIG = "adapter_config.json";

  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR",
      description = "A Diffusers pipeline folder (the component's subfolder is used) or a model folder"
          + " (config.json and weights). Only read.")
  String model;

  @Option(names = "--lora", required = true, paramLabel = "FILE",
      description = "The LoRA .safetensors file, e.g. pytorch_lora_weights.safetensors or adapter_model.safetensors.")
  String lora;

  @Option(names = "--output", required = true, paramLabel = "DIR",
      description = "Where to write: a model folder, or DIR/<component>/ when --model is a pipeline folder.")
  String output;

  @Option(names = "--lora-alpha", paramLabel = "A",
      description = "lora_alpha when neither the file's metadata nor an adapter_config.json beside it gives one"
          + " (scale A / r, r from the shapes).")
  Double loraAlpha;

  @Option(names = "--component", defaultValue = "transformer", paramLabel = "NAME",
      description = "The component to merge into: transformer, vae or text_encoder. Default: ${DEFAULT-VALUE}.")
  String component;

  @Option(names = "--overwrite", description = "Replace the weight files of an output folder that already has some.")
  boolean overwrite;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Component target;
    Path modelDir;
    Path outDir;
    try {
      // local folders only; the storage defaults still name an S3 region, or Beam's S3 file system would ask EC2's
      // instance metadata for one and wait for its answer (about a second off EC2)
      FileSystems.setDefaultPipelineOptions(new StorageOptions().applyTo(PipelineOptionsFactory.create()));
      target = Component.fromFolder(component);
      Path root = Path.of(model).toAbsolutePath().normalize();
      boolean pipelineFolder = Files.isDirectory(root.resolve(target.folder()));
      modelDir = pipelineFolder ? root.resolve(target.folder()) : root;
      Path outRoot = Path.of(output).toAbsolutePath().normalize();
      outDir = pipelineFolder ? outRoot.resolve(target.folder()) : outRoot;
      if (outDir.equals(modelDir)) {
        throw new IllegalArgumentException("--output must differ from the model folder " + modelDir
            + ": its files are read while the merged ones are written");
      }
      if (hasWeights(outDir, target) && !overwrite) {
        throw new IllegalArgumentException(outDir + " already holds weight files; give --overwrite to replace them");
      }
    } catch (IllegalArgumentException | IOException e) {
      spec.commandLine().getErr().println("error: " + ErrorText.of(e));
      return ExitCodes.USAGE;
    }
    List<RandomAccessInput> opened = new ArrayList<>();
    try {
      List<String> weightFiles = weightFiles(modelDir, target);
      List<SafetensorsFile> modelFiles = new ArrayList<>();
      for (String f : weightFiles) {
        modelFiles.add(open(f, opened));
      }
      String loraPath = Path.of(lora).toAbsolutePath().normalize().toString();
      SafetensorsFile loraFile = open(loraPath, opened);
      DiffusersLoraMerge.Strength strength = strength(loraFile, target);
      DiffusersLoraMerge.Plan plan = DiffusersLoraMerge.plan(target, modelFiles, loraFile, strength);
      Map<String, String> metadata = provenance(modelDir, loraPath, strength, plan);
      deleteWeights(outDir, target);
      for (PlannedShard shard : plan.shards()) {
        // the pipeline's shard writer; no digest: merge-lora writes no report
        new ShardFiles().write(outDir.resolve(shard.fileName()).toString(), null, shard.tensors(), metadata,
            RandomAccessInputs::open, null);
      }
      if (plan.shards().size() > 1) {
        Files.write(outDir.resolve(target.fileStem() + ".safetensors.index.json"), ShardPlanner.index(plan.shards()).toJsonBytes());
      }
      if (Files.exists(modelDir.resolve("config.json"))) {
        Files.copy(modelDir.resolve("config.json"), outDir.resolve("config.json"),
            StandardCopyOption.REPLACE_EXISTING);
      }
      out.printf("merged %d LoRA modules of %s into %s (%d file(s)); scale lora_alpha / r = %s%n",
          plan.scales().size(), loraPath, outDir, plan.shards().size(), distinct(plan.scales()));
      if (!plan.ignoredKeys().isEmpty()) {
        out.printf("left out %d LoRA keys of other components, e.g. %s%n", plan.ignoredKeys().size(),
            plan.ignoredKeys().get(0));
      }
      out.flush();
      return ExitCodes.OK;
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("error: " + ErrorText.of(e));
      return ExitCodes.INVALID_INPUT;
    } catch (Exception e) {
      spec.commandLine().getErr().println("error: " + ErrorText.of(e));
      return ExitCodes.FAILED;
    } finally {
      for (RandomAccessInput in : opened) {
        try {
          in.close();
        } catch (IOException ignored) {
          // reading is over; nothing to lose
        }
      }
    }
  }

  /** The file's metadata, else adapter_config.json beside it, else --lora-alpha; a conflicting --lora-alpha is an error. */
  private DiffusersLoraMerge.Strength strength(SafetensorsFile loraFile, Component target) throws IOException {
    String metadata = loraFile.metadata().get(PeftLoraConfig.METADATA_KEY);
    Path config = Path.of(loraFile.path()).resolveSibling(ADAPTER_CONFIG);
    PeftLoraConfig found = null;
    String from = null;
    if (metadata != null) {
      found = PeftLoraConfig.fromAdapterMetadata(metadata, target.folder(), loraFile.path());
      from = loraFile.path() + " metadata " + PeftLoraConfig.METADATA_KEY;
    } else if (Files.exists(config)) {
      found = PeftLoraConfig.fromAdapterConfig(Files.readString(config), config.toString());
      from = config.toString();
    }
    if (found == null) {
      if (loraAlpha == null) {
        throw new IllegalArgumentException(loraFile.path() + ": no lora_adapter_metadata and no " + ADAPTER_CONFIG
            + " beside it, so its lora_alpha is unknown: give --lora-alpha");
      }
      return new DiffusersLoraMerge.FromAlpha(loraAlpha);
    }
    if (loraAlpha != null && loraAlpha != found.loraAlpha()) {
      throw new IllegalArgumentException("--lora-alpha " + loraAlpha + " conflicts with lora_alpha " + found.loraAlpha()
          + " in " + from);
    }
    return new DiffusersLoraMerge.FromConfig(found);
  }

  private static Map<String, String> provenance(
      Path modelDir, String loraPath, DiffusersLoraMerge.Strength strength, DiffusersLoraMerge.Plan plan)
      throws IOException {
    FileFingerprint f = StorageFiles.fingerprint(loraPath);
    Map<String, Object> lora = new LinkedHashMap<>();
    lora.put("path", f.path());
    lora.put("size", f.sizeBytes());
    lora.put("last_modified_ms", f.lastModifiedMillis());
    lora.put("strength", strength.toString());
    lora.put("scales", distinct(plan.scales()));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("converter_version", Version.current());
    m.put("command", "merge-lora");
    m.put("model", modelDir.toString());
    m.put("lora", lora);
    return Map.of(Provenance.METADATA_KEY, JsonMapper.builder().build().writeValueAsString(m));
  }

  private static List<Double> distinct(Map<String, Double> scales) {
    return scales.values().stream().distinct().sorted().toList();
  }

  /** The shards the index names, in order, or the single weight file. */
  private static List<String> weightFiles(Path dir, Component c) throws IOException {
    Path index = dir.resolve(c.fileStem() + ".safetensors.index.json");
    if (Files.exists(index)) {
      return ShardIndex.parse(index.toString(), Files.readAllBytes(index)).shardFiles().stream()
          .map(f -> dir.resolve(f).toString()).toList();
    }
    Path single = dir.resolve(c.fileStem() + ".safetensors");
    if (!Files.exists(single)) {
      throw new IllegalArgumentException(dir + ": neither " + single.getFileName() + " nor " + index.getFileName());
    }
    return List.of(single.toString());
  }

  private static boolean hasWeights(Path dir, Component c) throws IOException {
    return !weightFilesIn(dir, c).isEmpty();
  }

  /** No stale shards of an older, differently sharded result. */
  private static void deleteWeights(Path dir, Component c) throws IOException {
    for (Path p : weightFilesIn(dir, c)) {
      Files.delete(p);
    }
  }

  private static List<Path> weightFilesIn(Path dir, Component c) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().startsWith(c.fileStem())
          && (p.toString().endsWith(".safetensors") || p.toString().endsWith(".safetensors.index.json"))).toList();
    }
  }

  private static SafetensorsFile open(String path, List<RandomAccessInput> opened) throws IOException {
    RandomAccessInput in = RandomAccessInputs.open(path);
    opened.add(in);
    return SafetensorsFile.open(in);
  }
}
