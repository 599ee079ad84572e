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
import org.sat2diffusers.io.safetensors.ShardIndex;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TensorRecord;
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
import org.sat2diffusers.transforms.parallel.ReplicatedTensor;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.TensorMapping;
import org.sat2diffusers.transforms.records.OutputTensor;
import org.sat2diffusers.transforms.records.SourceTensor;
import org.sat2diffusers.transforms.shard.PlannedShard;
import org.sat2diffusers.transforms.shard.ShardPlanner;

/**
 * Plans one checkpoint end to end from its tensor records: map keys, detect the model, drop the
 * sincos table if that is what it is, infer the configs, check the result against the Diffusers
 * schema, plan shards, and render the small files. Touches no tensor bytes.
 */
public final class CheckpointPlanner {
  static final String POSITION_TABLE = "patch_embed.pos_embedding";
  static final String MODEL_INDEX = "model_index.json";
  static final String SCHEDULER_CONFIG = ModelIndex.SCHEDULER + "/scheduler_config.json";

  private CheckpointPlanner() {}

  /**
   * @param source the path the user named, for messages and the report
   * @param files the indexed files, transformer first
   * @param runModelConfig the run's {@code model_config.json}, if it has one: its {@code variant} names
   *     the family when neither --model nor --sat-config does
   */
  public static CheckpointPlan plan(
      String source, List<CheckpointIndex> files, ConversionSettings settings, Optional<String> runModelConfig) {
    return plan(source, files, settings, runModelConfig, null);
  }

  /**
   * As {@link #plan(String, List, ConversionSettings, Optional)}, recording {@code provenance} (when not
   * null) in every safetensors header and in the report.
   */
  public static CheckpointPlan plan(String source, List<CheckpointIndex> files, ConversionSettings settings,
      Optional<String> runModelConfig, Provenance provenance) {
    Optional<SatTrainingConfig> sat =
        Optional.ofNullable(settings.satConfigYaml()).map(y -> SatTrainingConfig.parse(y, "--sat-config"));
    double alpha = settings.loraAlpha() != null ? settings.loraAlpha()
        : sat.flatMap(SatTrainingConfig::lora).map(SatTrainingConfig.Lora::alpha).orElse(SatTrainingConfig.SAT_DEFAULT_LORA_ALPHA);
    TensorMapping mapping;
    try {
      mapping = TensorMapper.map(RankMerger.merge(sourceTensors(files)).tensors(), alpha, dtypes(settings));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
    requireNoUnroutedKeys(source, mapping, settings.unknownKeys());

    Optional<ModelFamily> requested =
        "auto".equals(settings.model()) ? Optional.empty() : Optional.of(ModelFamily.fromCliName(settings.model()));
    List<String> warnings = new ArrayList<>();
    Optional<ModelFamily> runVariant = requested.isPresent() || sat.isPresent() ? Optional.empty()
        : runModelConfig.flatMap(json -> RunModelConfig.variant(json, warnings));
    Detection detection = detect(source, mapping, requested.or(() -> runVariant), sat);
    if (requested.isEmpty() && runVariant.isPresent()) {
      detection = new Detection(detection.family(), "the run's model_config.json names " + runVariant.get().cliName());
    }
    ModelFamily family = detection.family();
    if (!family.positions().learned() && hasOutput(mapping, Component.TRANSFORMER, POSITION_TABLE)) {
      mapping = mapping.dropOutput(Component.TRANSFORMER, POSITION_TABLE,
          "drop: frozen sincos position table (" + family.displayName() + " computes it, it is not a weight)");
    }

    for (Component c : mapping.components()) {
      if (!settings.selects(c)) {
        mapping = mapping.withoutComponent(c, "not selected (--components " + names(settings.components()) + ")");
      }
    }
    if (mapping.components().isEmpty()) {
      throw new IllegalArgumentException(source + ": nothing to convert: the checkpoint holds none of the components "
          + names(settings.components()));
    }

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

    AdapterExport.Result adapter = null;
    if (settings.loraMode().exportsAdapter()) {
      if (mapping.loraGroups().isEmpty() || !settings.selects(Component.TRANSFORMER)) {
        warnings.add("--lora-mode " + settings.loraMode().cliName() + ": no LoRA weights in the converted transformer,"
            + " so no adapter file");
      } else {
        adapter = AdapterExport.export(mapping, settings.loraMode(), settings.loraFoldScale());
        mapping = adapter.mapping();
      }
    }

    List<PlannedShard> shards = new ArrayList<>();
    Map<String, String> smallFiles = new LinkedHashMap<>();
    List<String> folders = new ArrayList<>();
    for (Component c : mapping.components()) {
      long limit = settings.maxShardBytes() > 0 ? settings.maxShardBytes() : c.defaultMaxShardBytes();
      List<PlannedShard> planned = ShardPlanner.plan(mapping.outputs(c), c, limit);
      shards.addAll(planned);
      folders.add(c.folder());
      smallFiles.put(c.folder() + "/config.json", json(configs.get(c)));
      if (planned.size() > 1) {
        smallFiles.put(c.folder() + "/" + c.fileStem() + ".safetensors.index.json", index(planned));
      }
    }
    if (adapter != null) {
      shards.add(new PlannedShard(Component.TRANSFORMER, AdapterExport.FILE, adapter.tensors(),
          adapter.tensors().stream().mapToLong(OutputTensor::byteLength).sum(),
          Map.of(PeftLoraConfig.METADATA_KEY, adapter.config().adapterMetadata(AdapterExport.PREFIX))));
    }
    List<String> fromBase = List.of();
    if (settings.basePipeline() != null) {
      fromBase = completeFromBase(source, settings.basePipeline(), family, sat, mapping.components(), folders, smallFiles);
    } else if (!settings.isPartial()) { // with --components, the pipeline-level files come from the base model
      Set<Component> present = EnumSet.noneOf(Component.class);
      present.addAll(mapping.components());
      folders.add(ModelIndex.SCHEDULER);
      smallFiles.put(SCHEDULER_CONFIG, json(SchedulerConfig.build(family, sat)));
      smallFiles.put(MODEL_INDEX, json(ModelIndex.build(family, present)));
    }

    String report = ConversionReport.planned(
        source, files, settings, alpha, detection, warnings, mapping, shards, fromBase);
    Map<String, Object> sections = new LinkedHashMap<>();
    if (adapter != null) {
      sections.put("lora_adapter", ConversionReport.adapter(adapter, settings));
    }
    Map<String, String> metadata = Map.of();
    if (provenance != null) {
      sections.put("provenance", provenance.describe(settings, alpha, mapping.loraGroups()));
      metadata = provenance.metadata(settings, alpha, mapping.loraGroups());
    }
    report = ConversionReport.withSections(report, sections);
    return new CheckpointPlan(detection, mapping, shards, smallFiles, folders, metadata, report, fromBase);
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

  private static Detection detect(
      String source, TensorMapping mapping, Optional<ModelFamily> requested, Optional<SatTrainingConfig> sat) {
    try {
      return ModelDetector.detect(shapes(mapping.outputs(Component.TRANSFORMER)), requested, sat);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  private static String names(List<Component> components) {
    return String.join(",", components.stream().map(Component::folder).toList());
  }

  /**
   * The tensors every model-parallel rank of the checkpoint holds in full, to be checked equal with
   * {@link org.sat2diffusers.transforms.parallel.ReplicaCheck} before converting (empty for one rank).
   */
  public static List<ReplicatedTensor> replicatedTensors(String source, List<CheckpointIndex> files) {
    try {
      return RankMerger.merge(sourceTensors(files)).replicated();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  private static List<SourceTensor> sourceTensors(List<CheckpointIndex> files) {
    List<SourceTensor> out = new ArrayList<>();
    for (CheckpointIndex f : files) {
      for (TensorRecord t : f.tensors()) {
        out.add(new SourceTensor(f.path(), t));
      }
    }
    return out;
  }

  private static boolean hasOutput(TensorMapping plan, Component c, String name) {
    return plan.outputs(c).stream().anyMatch(t -> t.name().equals(name));
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

  private static String index(List<PlannedShard> shards) {
    Map<String, String> weightMap = new LinkedHashMap<>();
    long total = 0;
    for (PlannedShard s : shards) {
      for (OutputTensor t : s.tensors()) {
        weightMap.put(t.name(), s.fileName());
        total += t.byteLength();
      }
    }
    return new String(new ShardIndex(total, weightMap).toJsonBytes(), StandardCharsets.UTF_8);
  }

  private static String json(Map<String, Object> config) {
    return new String(PythonJson.fileBytes(config, true), StandardCharsets.UTF_8);
  }
}
