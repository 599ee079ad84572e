package org.sat2diffusers.transforms.convert;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.transforms.config.BasePipeline;
import org.sat2diffusers.transforms.adapter.AdapterExport;
import org.sat2diffusers.transforms.adapter.PeftLoraConfig;
import org.sat2diffusers.transforms.config.ModelIndex;
import org.sat2diffusers.transforms.config.SchedulerConfig;
import org.sat2diffusers.transforms.config.T5ConfigInference;
import org.sat2diffusers.transforms.config.TransformerConfigInference;
import org.sat2diffusers.transforms.config.VaeConfigInference;
import org.sat2diffusers.transforms.model.Detection;
import org.sat2diffusers.transforms.model.DiffusersSchema;
import org.sat2diffusers.transforms.model.ModelDetector;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.model.SatTrainingConfig;
import org.sat2diffusers.transforms.parallel.RankMerger;
import org.sat2diffusers.transforms.parallel.RankedSources;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.KeyNames;
import org.sat2diffusers.transforms.records.TensorMapping;
import org.sat2diffusers.transforms.records.OutputTensor;
import org.sat2diffusers.transforms.records.SourcePart;
import org.sat2diffusers.transforms.records.SourceTensor;
import org.sat2diffusers.transforms.shard.PlannedShard;
import org.sat2diffusers.transforms.shard.ShardPlanner;

/**
 * Plans one checkpoint from its tensor records, touching no tensor bytes, in the steps {@link #plan}
 * reads as: resolve the settings, merge model-parallel ranks, route and map every key (rules, LoRA
 * folded in, dtypes), detect the model (and drop the position table if it is the frozen sincos one),
 * select the components, infer their configs and check them against the Diffusers schema, export a
 * LoRA adapter, plan the shards, render the small files, and build the report.
 */
public final class CheckpointPlanner {
  static final String POSITION_TABLE = "patch_embed.pos_embedding";
  static final String MODEL_INDEX = "model_index.json";
  static final String SCHEDULER_CONFIG = ModelIndex.SCHEDULER + "/scheduler_config.json";

  private CheckpointPlanner() {}

  /**
   * The settings as planning applies them.
   *
   * @param sat the --sat-config, parsed
   * @param loraAlpha --lora-alpha, else the --sat-config's lora_alpha, else SAT's default
   * @param requested the family --model names, if not {@code auto}
   * @param runVariant the family the run's model_config.json names, when neither --model nor --sat-config decides
   */
  private record Resolved(
      Optional<SatTrainingConfig> sat, double loraAlpha, Optional<ModelFamily> requested,
      Optional<ModelFamily> runVariant) {}

  /** The components' configs, and the mapping once the schema check has dropped what --unknown-keys drop drops. */
  private record Configured(TensorMapping mapping, Map<Component, Map<String, Object>> configs) {}

  /** The files beside the shards: relative path to content, the folders written, those taken from a base. */
  private record PipelineFiles(Map<String, String> smallFiles, List<String> folders, List<String> fromBase) {}

  /**
   * @param source the path the user named, for messages and the report
   * @param parts the checkpoint's parts, transformer first: torch files (model-parallel ranks are
   *     merged) and tensors read as recipes ({@link SourcePart})
   * @param runModelConfig the run's {@code model_config.json}, if it has one: its {@code variant} names
   *     the family when neither --model nor --sat-config does
   */
  public static CheckpointPlan plan(
      String source, List<SourcePart> parts, ConversionSettings settings, Optional<String> runModelConfig) {
    return plan(source, parts, settings, runModelConfig, null);
  }

  /**
   * As {@link #plan(String, List, ConversionSettings, Optional)}, recording {@code provenance} (when not
   * null) in every safetensors header and in the report.
   */
  public static CheckpointPlan plan(String source, List<SourcePart> parts, ConversionSettings settings,
      Optional<String> runModelConfig, Provenance provenance) {
    List<String> warnings = new ArrayList<>();
    Resolved resolved = resolveSettings(settings, runModelConfig, warnings);
    RankedSources ranks = mergeRanks(source, parts);
    TensorMapping mapping = routeAndMap(source, ranks.tensors(), resolved.loraAlpha(), settings, warnings);
    Detection detection = detectModel(source, mapping, resolved, settings);
    mapping = dropSincosTable(mapping, detection.family());
    mapping = selectComponents(source, mapping, settings);
    Configured configured = inferConfigs(source, mapping, detection.family(), resolved.sat(), settings, warnings);
    Optional<AdapterExport.Result> adapter = exportAdapter(configured.mapping(), settings, warnings);
    mapping = adapter.map(AdapterExport.Result::mapping).orElse(configured.mapping());
    WritableNames.require(source, mapping);
    List<PlannedShard> shards = planShards(mapping, settings, adapter);
    PipelineFiles pipelineFiles = pipelineFiles(source, mapping, configured.configs(), shards, detection.family(),
        resolved.sat(), settings);

    Map<String, Object> report = ConversionReport.planned(source, parts, settings, resolved.loraAlpha(), detection,
        warnings, mapping, shards, pipelineFiles.fromBase());
    adapter.ifPresent(a -> report.put("lora_adapter", ConversionReport.adapter(a, settings)));
    Map<String, String> metadata = Map.of();
    if (provenance != null) {
      report.put("provenance", provenance.describe(settings, resolved.loraAlpha(), mapping.loraGroups()));
      metadata = provenance.metadata(settings, resolved.loraAlpha(), mapping.loraGroups());
    }
    return new CheckpointPlan(detection, mapping, shards, pipelineFiles.smallFiles(), pipelineFiles.folders(),
        metadata, ConversionReport.stamped(report), pipelineFiles.fromBase(), ranks.replicated());
  }

  /** The SAT config, the LoRA alpha, and the family named by --model or the run's model_config.json. */
  private static Resolved resolveSettings(ConversionSettings settings, Optional<String> runModelConfig,
      List<String> warnings) {
    Optional<SatTrainingConfig> sat =
        Optional.ofNullable(settings.satConfigYaml()).map(y -> SatTrainingConfig.parse(y, "--sat-config"));
    double alpha = settings.loraAlpha() != null ? settings.loraAlpha()
        : sat.flatMap(SatTrainingConfig::lora).map(SatTrainingConfig.Lora::alpha).orElse(SatTrainingConfig.SAT_DEFAULT_LORA_ALPHA);
    Optional<ModelFamily> requested =
        "auto".equals(settings.model()) ? Optional.empty() : Optional.of(ModelFamily.fromCliName(settings.model()));
    Optional<ModelFamily> runVariant = requested.isPresent() || sat.isPresent() ? Optional.empty()
        : runModelConfig.flatMap(json -> RunModelConfig.variant(json, warnings));
    return new Resolved(sat, alpha, requested, runVariant);
  }

  /**
   * The parts' tensors in part order, the torch files' model-parallel ranks merged (where the first
   * torch file was), with the replicated tensors to check equal. Recipes are already whole tensors.
   */
  private static RankedSources mergeRanks(String source, List<SourcePart> parts) {
    List<SourceTensor> torchTensors = new ArrayList<>();
    parts.stream().filter(SourcePart::isTorchFile).forEach(p -> torchTensors.addAll(p.sourceTensors()));
    RankedSources merged;
    try {
      merged = RankMerger.merge(torchTensors);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
    List<SourceTensor> tensors = new ArrayList<>();
    boolean torchPlaced = false;
    for (SourcePart part : parts) {
      if (!part.isTorchFile()) {
        tensors.addAll(part.sourceTensors());
      } else if (!torchPlaced) {
        tensors.addAll(merged.tensors());
        torchPlaced = true;
      }
    }
    return new RankedSources(tensors, merged.replicated(), merged.ranks());
  }

  /** Every key routed to its component and mapped by its rules, LoRA folded in, dtypes chosen. */
  private static TensorMapping routeAndMap(String source, List<SourceTensor> tensors, double loraAlpha,
      ConversionSettings settings, List<String> warnings) {
    TensorMapping mapping;
    try {
      // a PEFT LoRA's alpha is --lora-alpha only: SAT's default and a SAT config's lora_alpha are SAT's
      mapping = TensorMapper.map(tensors, loraAlpha, settings.loraAlpha(), dtypes(settings));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
    requireNoUnroutedKeys(source, mapping, settings.unknownKeys());
    boolean peftLora = !mapping.loraGroups().isEmpty()
        && tensors.stream().anyMatch(t -> t.names() == KeyNames.DIFFUSERS_TRANSFORMER);
    if (peftLora && settings.loraAlpha() == null) {
      // no file of a Diffusers-based trainer's LoRA run records its lora_alpha: say which scale was taken
      warnings.add("the PEFT LoRA (" + mapping.loraGroups().size() + " modules) was merged at scale 1 (alpha = r, as"
          + " Diffusers loads a LoRA file without lora_alpha); the run's lora_alpha is recorded in no file: if it"
          + " trained with another, convert again with --lora-alpha A (scale A / r)");
    }
    return mapping;
  }

  /**
   * The family: --model, else the --sat-config, else the run's model_config.json, else the tensors. A
   * checkpoint without a transformer (a VAE file on its own) has no tensors that tell, and is an error
   * when --components asks for its transformer.
   */
  private static Detection detectModel(
      String source, TensorMapping mapping, Resolved resolved, ConversionSettings settings) {
    // a checkpoint of nothing at all keeps the transformer's message: that is what it lacks first
    boolean fromTransformer = !mapping.outputs(Component.TRANSFORMER).isEmpty() || mapping.components().isEmpty();
    if (!fromTransformer && settings.components().contains(Component.TRANSFORMER)) {
      throw new IllegalArgumentException(source + ": --components " + names(settings.components())
          + " asks for a transformer, but the checkpoint holds none (it holds " + names(mapping.components()) + ")");
    }
    Detection detection;
    try {
      detection = fromTransformer
          ? ModelDetector.detect(shapes(mapping.outputs(Component.TRANSFORMER)),
              resolved.requested().or(resolved::runVariant), resolved.sat())
          : ModelDetector.detectWithoutTransformer(resolved.requested().or(resolved::runVariant), resolved.sat(),
              "only " + names(mapping.components()));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
    if (resolved.requested().isEmpty() && resolved.runVariant().isPresent()) {
      return new Detection(detection.family(), "the run's model_config.json names " + resolved.runVariant().get().cliName());
    }
    return detection;
  }

  /**
   * The one place the position table is dropped: a family with sincos positions computes the table,
   * so the checkpoint's copy is no weight. The rules cannot tell, having no family.
   */
  private static TensorMapping dropSincosTable(TensorMapping mapping, ModelFamily family) {
    if (family.positions().learned()
        || mapping.outputs(Component.TRANSFORMER).stream().noneMatch(t -> t.name().equals(POSITION_TABLE))) {
      return mapping;
    }
    return mapping.dropOutput(Component.TRANSFORMER, POSITION_TABLE,
        "drop: frozen sincos position table (" + family.displayName() + " computes it, it is not a weight)");
  }

  /** The components --components names (all by default); an error when none of them is in the checkpoint. */
  private static TensorMapping selectComponents(String source, TensorMapping mapping, ConversionSettings settings) {
    for (Component c : mapping.components()) {
      if (!settings.selects(c)) {
        mapping = mapping.withoutComponent(c, "not selected (--components " + names(settings.components()) + ")");
      }
    }
    if (mapping.components().isEmpty()) {
      throw new IllegalArgumentException(source + ": nothing to convert: the checkpoint holds none of the components "
          + names(settings.components()));
    }
    return mapping;
  }

  /**
   * Each component's config, inferred from its shapes and the family's preset, and the check that the
   * converted tensors are exactly the Diffusers model's parameters for that config (--unknown-keys
   * decides about the extra ones).
   */
  private static Configured inferConfigs(String source, TensorMapping mapping, ModelFamily family,
      Optional<SatTrainingConfig> sat, ConversionSettings settings, List<String> warnings) {
    Map<Component, Map<String, Object>> configs = new LinkedHashMap<>();
    for (Component c : mapping.components()) {
      Map<String, List<Long>> shapes = shapes(mapping.outputs(c));
      Map<String, Object> config = switch (c) {
        case TRANSFORMER -> {
          TransformerConfigInference.Result r = TransformerConfigInference.infer(shapes, family, sat);
          warnings.addAll(r.warnings());
          yield r.config();
        }
        case VAE -> VaeConfigInference.infer(shapes, family, sat);
        case TEXT_ENCODER -> T5ConfigInference.infer(shapes, mapping.outputs(c).get(0).dtype());
      };
      Map<String, List<Long>> expected = DiffusersSchema.expected(c, config);
      List<String> unknown = shapes.keySet().stream().filter(k -> !expected.containsKey(k)).toList();
      if (settings.unknownKeys() != UnknownKeys.FAIL) {
        for (String name : unknown) {
          shapes.remove(name);
          if (settings.unknownKeys() == UnknownKeys.DROP) {
            mapping = mapping.dropOutput(c, name, "drop: not a parameter of the Diffusers " + c.folder()
                + " (--unknown-keys drop)");
          }
        }
      }
      List<String> problems = DiffusersSchema.check(expected, shapes);
      if (!problems.isEmpty()) {
        String hint = settings.unknownKeys() == UnknownKeys.FAIL && !unknown.isEmpty()
            ? "\n  (" + unknown.size() + " key(s) no rule knows: --unknown-keys drop leaves them out, keep writes them)"
            : "";
        throw new IllegalArgumentException(
            source + ": the converted " + c.folder() + " does not match the Diffusers model of its inferred config"
                + " (" + family.displayName() + "):\n  " + String.join("\n  ", problems) + hint);
      }
      configs.put(c, config);
    }
    return new Configured(mapping, configs);
  }

  /** With --lora-mode adapter|both: the transformer's LoRA weights as a Diffusers adapter file. */
  private static Optional<AdapterExport.Result> exportAdapter(
      TensorMapping mapping, ConversionSettings settings, List<String> warnings) {
    if (!settings.loraMode().exportsAdapter()) {
      return Optional.empty();
    }
    if (mapping.loraGroups().isEmpty() || !settings.selects(Component.TRANSFORMER)) {
      warnings.add("--lora-mode " + settings.loraMode().cliName() + ": no LoRA weights in the converted transformer,"
          + " so no adapter file");
      return Optional.empty();
    }
    return Optional.of(AdapterExport.export(mapping, settings.loraMode(), settings.loraFoldScale()));
  }

  /** Each component's weight files, as its library shards them, then the adapter file. */
  private static List<PlannedShard> planShards(
      TensorMapping mapping, ConversionSettings settings, Optional<AdapterExport.Result> adapter) {
    List<PlannedShard> shards = new ArrayList<>();
    for (Component c : mapping.components()) {
      long limit = settings.maxShardBytes() > 0 ? settings.maxShardBytes() : c.defaultMaxShardBytes();
      shards.addAll(ShardPlanner.plan(mapping.outputs(c), c, limit));
    }
    adapter.ifPresent(a -> shards.add(new PlannedShard(Component.TRANSFORMER, AdapterExport.FILE, a.tensors(),
        a.tensors().stream().mapToLong(OutputTensor::byteLength).sum(),
        Map.of(PeftLoraConfig.METADATA_KEY, a.config().adapterMetadata(AdapterExport.PREFIX)))));
    return shards;
  }

  /**
   * The configs, shard indexes, scheduler config and model_index.json, and the folders written: the
   * pipeline-level files come from --base-pipeline when given, else from the family's presets, and
   * are left to the base model with --components.
   */
  private static PipelineFiles pipelineFiles(String source, TensorMapping mapping,
      Map<Component, Map<String, Object>> configs, List<PlannedShard> shards, ModelFamily family,
      Optional<SatTrainingConfig> sat, ConversionSettings settings) {
    Map<String, String> smallFiles = new LinkedHashMap<>();
    List<String> folders = new ArrayList<>();
    for (Component c : mapping.components()) {
      folders.add(c.folder());
      smallFiles.put(c.folder() + "/config.json", json(configs.get(c)));
      List<PlannedShard> weights = shards.stream()
          .filter(s -> s.component() == c && !s.fileName().equals(AdapterExport.FILE)).toList();
      if (weights.size() > 1) {
        smallFiles.put(c.folder() + "/" + c.fileStem() + ".safetensors.index.json",
            new String(ShardPlanner.index(weights).toJsonBytes(), StandardCharsets.UTF_8));
      }
    }
    List<String> fromBase = List.of();
    if (settings.basePipeline() != null) {
      fromBase = completeFromBase(source, settings.basePipeline(), family, sat, mapping.components(), folders, smallFiles);
    } else if (!settings.isPartial() && mapping.components().contains(Component.TRANSFORMER)) {
      // with --components, or without the transformer (a VAE file on its own), the pipeline-level files
      // are the base model's
      Set<Component> present = EnumSet.noneOf(Component.class);
      present.addAll(mapping.components());
      folders.add(ModelIndex.SCHEDULER);
      smallFiles.put(SCHEDULER_CONFIG, json(SchedulerConfig.build(family, sat)));
      smallFiles.put(MODEL_INDEX, json(ModelIndex.build(family, present)));
    }
    return new PipelineFiles(smallFiles, folders, fromBase);
  }

  /**
   * With {@code --base-pipeline}: every component folder the base holds that this conversion does not
   * write is taken from it (tokenizer, scheduler, and whatever the checkpoint lacks or --components
   * leaves out), and model_index.json names exactly the folders the output then has. The scheduler is
   * the base's when it has one (a fine-tune does not change it), else the family's preset.
   *
   * @return the folders to take from the base
   */
  private static List<String> completeFromBase(String source, BasePipeline base, ModelFamily family,
      Optional<SatTrainingConfig> sat, List<Component> converted, List<String> folders, Map<String, String> smallFiles) {
    Map<String, Object> baseIndex = baseIndex(base);
    Object baseClass = baseIndex.get("_class_name");
    if (baseClass != null && !baseClass.equals(ModelIndex.pipelineClass(family))) {
      throw new IllegalArgumentException(source + ": the checkpoint is " + family.displayName() + " ("
          + ModelIndex.pipelineClass(family) + ") but --base-pipeline " + base.dir() + " is a " + baseClass
          + ": use the base model the checkpoint was fine-tuned from");
    }
    Map<String, List<String>> written = new LinkedHashMap<>();
    converted.forEach(c -> written.put(c.folder(), ModelIndex.entry(c)));
    if (!base.folders().contains(ModelIndex.SCHEDULER)) {
      folders.add(ModelIndex.SCHEDULER);
      smallFiles.put(SCHEDULER_CONFIG, json(SchedulerConfig.build(family, sat)));
      written.put(ModelIndex.SCHEDULER, ModelIndex.schedulerEntry());
    }
    List<String> fromBase = base.folders().stream().filter(f -> !written.containsKey(f)).toList();
    folders.addAll(fromBase);
    smallFiles.put(MODEL_INDEX, json(ModelIndex.completed(family, baseIndex, written, Set.copyOf(fromBase))));
    return fromBase;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> baseIndex(BasePipeline base) {
    try {
      return (Map<String, Object>) PythonJson.parse(base.modelIndexJson());
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "--base-pipeline " + base.dir() + ": model_index.json is not a JSON object: " + e.getMessage(), e);
    }
  }

  /**
   * Keys under no component prefix: an error listing them all unless --unknown-keys drop (the router
   * already dropped them, with the reason, in the plan). keep cannot place them anywhere.
   */
  private static void requireNoUnroutedKeys(String source, TensorMapping mapping, UnknownKeys policy) {
    List<String> keys = mapping.unroutedKeys();
    if (keys.isEmpty() || policy == UnknownKeys.DROP) {
      return;
    }
    String what = keys.size() + " source key(s) under no component prefix (model.diffusion_model.,"
        + " first_stage_model., conditioner.embedders.0.transformer.): " + String.join(", ", keys);
    throw new IllegalArgumentException(source + ": " + (policy == UnknownKeys.KEEP
        ? "--unknown-keys keep has no component to write them into: " + what
        : what + "; --unknown-keys drop converts without them"));
  }

  private static String names(List<Component> components) {
    return String.join(",", components.stream().map(Component::folder).toList());
  }

  static Map<String, List<Long>> shapes(List<OutputTensor> tensors) {
    Map<String, List<Long>> shapes = new LinkedHashMap<>();
    for (OutputTensor t : tensors) {
      shapes.put(t.name(), t.shape());
    }
    return shapes;
  }

  /** Per component, the dtype its floating-point tensors are cast to ({@code --dtype}, {@code --vae-dtype}); absent keeps. */
  private static Map<Component, Dtype> dtypes(ConversionSettings settings) {
    Map<Component, Dtype> dtypes = new EnumMap<>(Component.class);
    if (settings.dtype() != null) {
      dtypes.put(Component.TRANSFORMER, settings.dtype());
      dtypes.put(Component.TEXT_ENCODER, settings.dtype());
    }
    if (settings.vaeDtype() != null) {
      dtypes.put(Component.VAE, settings.vaeDtype());
    }
    return dtypes;
  }

  private static String json(Map<String, Object> config) {
    return new String(PythonJson.fileBytes(config, true), StandardCharsets.UTF_8);
  }
}
