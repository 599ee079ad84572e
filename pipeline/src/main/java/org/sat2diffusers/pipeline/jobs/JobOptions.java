package org.sat2diffusers.pipeline.jobs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.sat.IterationSelection;
import org.sat2diffusers.io.storage.TreeListing;
import org.sat2diffusers.pipeline.jobs.JobOption.Kind;
import org.sat2diffusers.pipeline.jobs.JobOption.Setter;
import org.sat2diffusers.transforms.adapter.AdapterExport;
import org.sat2diffusers.transforms.adapter.LoraMode;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.convert.UnknownKeys;
import org.sat2diffusers.transforms.convert.Weights;
import org.sat2diffusers.transforms.shard.SizeParser;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The options of a conversion job, as ordered data: what each takes, what it means, and how its
 * value is read. Both front doors use this one table: {@code convert} declares an option per entry
 * ({@code --lora-mode}), a manifest job reads a field per entry ({@code lora_mode}), and
 * docs/manifest.md's field table is checked against it. Options of the whole run (runner, storage,
 * logging, {@code --fail-fast}, ...) are not here: they are {@code convert}'s own.
 */
public final class JobOptions {
  public static final JobOption SOURCE = new JobOption("source", Kind.PATHS, "PATH",
      "A SAT run folder (its 'latest' picks the iteration), iteration folder, .pt file (a whole checkpoint, or one"
          + " component such as the released vae/3d-vae.pt), or released layout folder (transformer/ + vae/); or a"
          + " Diffusers-based trainer's checkpoint-<step> folder, or its output folder holding them. Repeatable on the"
          + " command line. Never modified: opened read-only.",
      "", (job, v) -> job.sources.addAll(v));
  public static final JobOption SOURCE_ROOT = new JobOption("source-root", Kind.PATHS, "DIR",
      "Convert every SAT run and every trainer output folder (with checkpoint-<step> folders) found below DIR."
          + " Repeatable on the command line; a manifest job gives source or source_root.",
      "", (job, v) -> job.sourceRoots.addAll(v));
  public static final JobOption VAE = new JobOption("vae", Kind.PATH, "FILE.pt",
      "A VAE checkpoint of its own (the released vae/3d-vae.pt: encoder.*, decoder.*; or first_stage_model.* keys),"
          + " converted with the transformer of each source checkpoint into one pipeline folder. The source must hold"
          + " a transformer and no VAE; never modified.",
      "", single((job, v) -> job.vae = v));
  public static final JobOption ITERATIONS = new JobOption("iterations", Kind.LIST, "ITERATION",
      "Which iterations of each run: latest, all, or a list of iteration folder names (-ema iterations are distinct; an iteration folder or"
          + " .pt file is one checkpoint whatever this says). For a trainer's output folder, its steps: latest is the"
          + " highest, a list names steps (500 or checkpoint-500).",
      "latest", (job, v) -> job.iterations = IterationSelection.parse(String.join(",", v)));
  public static final JobOption MAX_DEPTH = new JobOption("max-depth", Kind.NUMBER, "N",
      "Search at most N folder levels below each --source-root. Symbolic links are followed, but no folder twice"
          + " and never back up to the root.",
      String.valueOf(TreeListing.DEFAULT_MAX_DEPTH), single((job, v) -> job.maxDepth = depth(v)));
  public static final JobOption OUTPUT = new JobOption("output", Kind.PATH, "DIR",
      "The Diffusers folder to write; with several checkpoints, each goes to DIR/<run>/<iteration>/"
          + " (DIR/<iteration>/ for the iterations of one source run).",
      "", single((job, v) -> job.output = v));
  public static final JobOption LORA_ALPHA = new JobOption("lora-alpha", Kind.NUMBER, "A",
      "SAT lora2 alpha: LoRA updates are scaled by A / r (r from the shapes). Also the alpha of a PEFT LoRA in a"
          + " Diffusers-named transformer (a trainer's DeepSpeed save), whose default is r (scale 1).",
      "lora_alpha of --sat-config, else SAT's default of 1", single((job, v) -> job.loraAlpha = finite(v)));
  public static final JobOption LORA_MODE = new JobOption("lora-mode", Kind.NAME, "merge|adapter|both",
      "SAT lora2 weights: merge them into the transformer, or write them as a Diffusers LoRA file transformer/"
          + AdapterExport.FILE + " (adapter: beside the frozen weights; both: beside the merged ones, for use with"
          + " the base model). The file's lora_adapter_metadata gives PEFT SAT's alpha / r.",
      "merge", single((job, v) -> job.loraMode = LoraMode.fromCliName(v)));
  public static final JobOption LORA_FOLD_SCALE = new JobOption("lora-fold-scale", Kind.FLAG, "",
      "With --lora-mode adapter or both: multiply lora_B by alpha / r and write lora_alpha = r, for loaders that"
          + " ignore lora_adapter_metadata (they apply scale 1).",
      "", flag((job, on) -> job.loraFoldScale = on));
  public static final JobOption DTYPE = new JobOption("dtype", Kind.NAME, "keep|bf16|fp16|fp32",
      "Cast the transformer and text encoder (round to nearest even, as torch).",
      "keep", single((job, v) -> job.dtype = dtype(v)));
  public static final JobOption VAE_DTYPE = new JobOption("vae-dtype", Kind.NAME, "keep|bf16|fp16|fp32",
      "Cast the VAE.", "keep (fp32 as trained)", single((job, v) -> job.vaeDtype = dtype(v)));
  public static final JobOption MAX_SHARD_SIZE = new JobOption("max-shard-size", Kind.VALUE, "SIZE",
      "Largest shard, e.g. 10GB, 500MB, 20KB (decimal units; KiB/MiB/GiB binary), or a number of bytes.",
      "10GB for Diffusers components, 5GB for the text encoder",
      single((job, v) -> job.maxShardBytes = SizeParser.parse(v)));
  public static final JobOption MODEL = new JobOption("model", Kind.NAME, "NAME",
      "auto, cogvideox-2b, cogvideox-5b, cogvideox-5b-i2v, cogvideox1.5-5b or cogvideox1.5-5b-i2v: the family"
          + " whose published preset supplies what tensors cannot tell (auto: from --sat-config, else the run's"
          + " model_config.json, else the tensors).",
      "auto", single((job, v) -> job.model = model(v)));
  public static final JobOption SAT_CONFIG = new JobOption("sat-config", Kind.PATH, "FILE.yaml",
      "The SAT training YAML (network_config, lora_config), when you have it.",
      "", single((job, v) -> job.satConfig = v));
  public static final JobOption COMPONENTS = new JobOption("components", Kind.LIST, "NAME",
      "Convert only these of transformer, vae, text_encoder (e.g. just the transformer of a fine-tune, taking the"
          + " rest from the base model). model_index.json and scheduler/ are then not written, unless"
          + " --base-pipeline supplies the rest.",
      "all the checkpoint holds", (job, v) -> job.components = components(v));
  public static final JobOption UNKNOWN_KEYS = new JobOption("unknown-keys", Kind.NAME, "fail|drop|keep",
      "Source keys no rule knows (under no component prefix, or not a parameter of the Diffusers model): fail the"
          + " checkpoint listing them all, drop them (the report lists each), or keep them in the component whose"
          + " prefix they carry.",
      "fail", single((job, v) -> job.unknownKeys = unknownKeys(v)));
  public static final JobOption BASE_PIPELINE = new JobOption("base-pipeline", Kind.PATH, "DIR",
      "A Diffusers folder of the base model: the components the conversion does not write (tokenizer, scheduler,"
          + " a text encoder or VAE the checkpoint lacks or --components leaves out) are taken from it, and"
          + " model_index.json names exactly the components the output holds.",
      "", single((job, v) -> job.basePipeline = v));
  public static final JobOption LINK = new JobOption("link", Kind.FLAG, "",
      "With --base-pipeline: hard-link (else symbolically link) its files instead of copying them, where the"
          + " filesystem allows; copy otherwise.",
      "", flag((job, on) -> job.link = on));
  public static final JobOption DIGEST = new JobOption("digest", Kind.NAME, "crc32c|sha256",
      "The checksum the report keeps of each file's header and of every tensor, which verify checks: crc32c"
          + " (computed by the processor; catches any corruption) or sha256 (a content identity, e.g. to compare"
          + " with published per-tensor digests; several times the CPU).",
      "crc32c", single((job, v) -> job.digest = Digest.of(v)));
  public static final JobOption CHECK_FINITE = new JobOption("check-finite", Kind.FLAG, "",
      "Count NaN and infinite values of every written tensor into the report (one extra read of each shard, from"
          + " the page cache when local).",
      "", flag((job, on) -> job.checkFinite = on));
  public static final JobOption FAIL_ON_NONFINITE = new JobOption("fail-on-nonfinite", Kind.FLAG, "",
      "Fail a checkpoint whose written tensors hold NaN or infinity (implies --check-finite): nothing is committed"
          + " for it and the error lists the tensors.",
      "", flag((job, on) -> job.failOnNonfinite = on));
  public static final JobOption WEIGHTS = new JobOption("weights", Kind.NAME, "module|fp32-master",
      "Which weights of a DeepSpeed ZeRO checkpoint (an engine save_checkpoint folder, or a SAT iteration saved"
          + " with ZeRO): module, the 16-bit weights the model states hold (SAT's z3_rank_* partitions consolidated);"
          + " or fp32-master, each trained parameter's fp32 master assembled from the optimizer partitions as"
          + " zero_to_fp32.py does (frozen ones from the module), then mapped, merged and cast once (--dtype)."
          + " A ZeRO-3 engine save's module holds placeholders: it needs fp32-master.",
      "module", single((job, v) -> job.weights = Weights.fromCliName(v)));

  /** Every option, in the order help and the docs list them. */
  public static final List<JobOption> ALL = List.of(
      SOURCE, SOURCE_ROOT, VAE, OUTPUT, ITERATIONS, LORA_ALPHA, DTYPE, VAE_DTYPE, MODEL, SAT_CONFIG, MAX_SHARD_SIZE,
      COMPONENTS, MAX_DEPTH, LORA_MODE, LORA_FOLD_SCALE, UNKNOWN_KEYS, BASE_PIPELINE, LINK, DIGEST, CHECK_FINITE,
      FAIL_ON_NONFINITE, WEIGHTS);

  private JobOptions() {}

  /**
   * Adds an option per entry to a picocli command ({@code @Command(modelTransformer = ...)}), listed
   * first in its help; {@link #given} reads their values back.
   */
  public static final class OnCommandLine implements IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec command) {
      List<OptionSpec> commandsOwn = List.copyOf(command.options());
      commandsOwn.forEach(command::remove); // added back after the job options, which help lists first
      for (JobOption o : ALL) {
        OptionSpec.Builder option = OptionSpec.builder(o.cliName()).description(o.help());
        switch (o.kind()) {
          case FLAG -> option.type(boolean.class).arity("0");
          case LIST -> option.type(List.class).auxiliaryTypes(String.class).splitRegex(",").paramLabel(o.label());
          case PATHS -> option.type(List.class).auxiliaryTypes(String.class).paramLabel(o.label());
          default -> option.type(String.class).paramLabel(o.label());
        }
        command.addOption(option.build());
      }
      commandsOwn.forEach(command::addOption);
      return command;
    }
  }

  /** The options given on a command line parsed with {@link OnCommandLine}. */
  public static List<JobOption> given(ParseResult parsed) {
    return ALL.stream().filter(o -> parsed.hasMatchedOption(o.cliName())).toList();
  }

  /**
   * The job values of a command line parsed with {@link OnCommandLine}.
   *
   * @throws IllegalArgumentException naming the option whose value is wrong
   */
  public static JobValues fromCommandLine(ParseResult parsed) {
    JobValues job = new JobValues();
    for (JobOption o : given(parsed)) {
      Object value = parsed.matchedOptionValue(o.cliName(), null);
      List<String> values = new ArrayList<>();
      if (value instanceof List<?> list) {
        list.forEach(item -> values.add(String.valueOf(item)));
      } else {
        values.add(String.valueOf(value));
      }
      try {
        o.setter().set(job, values);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(o.cliName() + ": " + e.getMessage(), e);
      }
    }
    return job;
  }

  private static Setter single(BiConsumer<JobValues, String> set) {
    return (job, values) -> set.accept(job, values.get(0));
  }

  private static Setter flag(BiConsumer<JobValues, Boolean> set) {
    return (job, values) -> set.accept(job, Boolean.parseBoolean(values.get(0)));
  }

  private static double finite(String text) {
    try {
      double value = Double.parseDouble(text.replace("_", ""));
      if (Double.isFinite(value)) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("expected a finite decimal number, got " + text);
  }

  private static int depth(String text) {
    double value = finite(text);
    if (value != Math.rint(value) || value < 0 || value > 1000) {
      throw new IllegalArgumentException("expected a whole number of folder levels from 0 to 1000, got " + text);
    }
    return (int) value;
  }

  static Dtype dtype(String text) {
    try {
      return DtypeChoice.valueOf(text).dtype();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown dtype '" + text + "' (expected "
          + Arrays.stream(DtypeChoice.values()).map(Enum::name).collect(Collectors.joining(", ")) + ")");
    }
  }

  static String model(String text) {
    boolean known = text.equals("auto")
        || Arrays.stream(ModelFamily.values()).anyMatch(f -> f.cliName().equals(text));
    if (!known) {
      throw new IllegalArgumentException("unknown model '" + text + "' (expected auto|" + ModelFamily.cliNames() + ")");
    }
    return text;
  }

  private static UnknownKeys unknownKeys(String text) {
    for (UnknownKeys u : UnknownKeys.values()) {
      if (u.name().toLowerCase(Locale.ROOT).equals(text)) {
        return u;
      }
    }
    throw new IllegalArgumentException("unknown policy '" + text + "' (expected fail, drop or keep)");
  }

  private static List<Component> components(List<String> names) {
    List<Component> components = new ArrayList<>();
    for (String name : names) {
      components.add(Component.fromFolder(name.trim()));
    }
    return components;
  }
}
