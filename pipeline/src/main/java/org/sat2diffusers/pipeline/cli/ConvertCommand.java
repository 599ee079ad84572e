package org.sat2diffusers.pipeline.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.logging.Logger;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptions;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.sat.IterationSelection;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.storage.TreeListing;
import org.sat2diffusers.pipeline.steps.ConversionOptions;
import org.sat2diffusers.pipeline.run.ConversionRun;
import org.sat2diffusers.pipeline.run.DryRun;
import org.sat2diffusers.pipeline.jobs.BasePipelines;
import org.sat2diffusers.pipeline.jobs.DtypeChoice;
import org.sat2diffusers.pipeline.jobs.InvalidJobsException;
import org.sat2diffusers.pipeline.jobs.JobExpander;
import org.sat2diffusers.pipeline.jobs.JobManifest;
import org.sat2diffusers.pipeline.jobs.JobRequest;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.runner.RunnerOptions;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.pipeline.storage.StorageOptions;
import org.sat2diffusers.transforms.adapter.AdapterExport;
import org.sat2diffusers.transforms.adapter.LoraMode;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.convert.UnknownKeys;
import org.sat2diffusers.transforms.shard.SizeParser;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code convert}: SAT checkpoints to Diffusers folders, any number per run. */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    description = {
      "Converts SAT CogVideoX checkpoints (run folders, iteration folders, .pt files, released"
          + " transformer/ + vae/ layouts, or every run below a root) into Diffusers pipeline folders.",
      ExitCodes.HELP
    },
    sortOptions = false)
public final class ConvertCommand implements Callable<Integer> {
  private static final Logger LOG = Logger.getLogger("sat2diffusers");
  private static final long PROGRESS_EVERY_MILLIS = 10_000;

  @Spec CommandSpec spec;

  @Option(names = "--source", paramLabel = "PATH",
      description = "A SAT run folder (its 'latest' picks the iteration), iteration folder, .pt file, or released"
          + " layout folder. Repeatable. Never modified: opened read-only.")
  List<String> sources = new ArrayList<>();

  @Option(names = "--source-root", paramLabel = "DIR",
      description = "Convert every SAT run found below DIR. Repeatable.")
  List<String> sourceRoots = new ArrayList<>();

  @Option(names = "--max-depth", paramLabel = "N",
      description = "Search at most N folder levels below each --source-root (default: 16)."
          + " Symbolic links are followed, but no folder twice and never back up to the root.")
  Integer maxDepth;

  @Option(names = "--iterations", paramLabel = "latest|all|N,N,...",
      description = "Which iterations of each run: latest (default), all, or a list (-ema iterations are distinct).")
  String iterations;

  @Option(names = "--manifest", paramLabel = "jobs.yaml",
      description = "A YAML list of jobs, each with its own source, output and options (see docs/manifest.md)."
          + " Instead of --source/--source-root/--output.")
  String manifest;

  @Option(names = "--output", paramLabel = "DIR",
      description = "The Diffusers folder to write; with several checkpoints, each goes to DIR/<run>/<iteration>/.")
  String output;

  @Option(names = "--lora-alpha", paramLabel = "A",
      description = "SAT lora2 alpha: LoRA updates are scaled by A / r (r from the shapes)."
          + " Default: lora_alpha of --sat-config, else SAT's default of 1.")
  Double loraAlpha;

  @Option(names = "--lora-mode", defaultValue = "merge", paramLabel = "merge|adapter|both",
      description = "SAT lora2 weights: merge them into the transformer (default), or write them as a Diffusers LoRA"
          + " file transformer/" + AdapterExport.FILE + " (adapter: beside the frozen weights; both: beside the"
          + " merged ones, for use with the base model). The file's lora_adapter_metadata gives PEFT SAT's alpha / r.")
  String loraMode;

  @Option(names = "--lora-fold-scale",
      description = "With --lora-mode adapter|both: multiply lora_B by alpha / r and write lora_alpha = r, for"
          + " loaders that ignore lora_adapter_metadata (they apply scale 1).")
  boolean loraFoldScale;

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

  @Option(names = "--components", split = ",", paramLabel = "NAME",
      description = "Convert only these of transformer, vae, text_encoder (e.g. just the transformer of a fine-tune,"
          + " taking the rest from the base model). model_index.json and scheduler/ are then not written, unless"
          + " --base-pipeline supplies the rest.")
  List<String> components = new ArrayList<>();

  @Option(names = "--unknown-keys", defaultValue = "fail", paramLabel = "fail|drop|keep",
      description = "Source keys no rule knows (under no component prefix, or not a parameter of the Diffusers model):"
          + " fail the checkpoint listing them all (default), drop them (the report lists each), or keep them in the"
          + " component whose prefix they carry.")
  String unknownKeys;

  @Option(names = "--base-pipeline", paramLabel = "DIR",
      description = "A Diffusers folder of the base model: the components the conversion does not write (tokenizer,"
          + " scheduler, a text encoder or VAE the checkpoint lacks or --components leaves out) are taken from it,"
          + " and model_index.json names exactly the components the output holds.")
  String basePipeline;

  @Option(names = "--link",
      description = "With --base-pipeline: hard-link (else symbolically link) its files instead of copying them,"
          + " where the filesystem allows; copy otherwise.")
  boolean linkBase;

  @Option(names = "--dry-run",
      description = "Index, detect, map and plan, then print the plan instead of writing. Reads no tensor data.")
  boolean dryRun;

  @Option(names = "--plan-json", paramLabel = "FILE", description = "With --dry-run: also write the plan as JSON.")
  String planJson;

  @Option(names = "--overwrite",
      description = "Convert even when the output's commit marker says it is up to date (same sources, converter"
          + " version and options). Without it, such outputs are skipped.")
  boolean overwrite;

  @Option(names = "--digest", paramLabel = "crc32c|sha256", converter = DigestConverter.class,
      defaultValue = "crc32c",
      description = "The checksum the report keeps of each file's header and of every tensor, which verify checks:"
          + " crc32c (computed by the processor; catches any corruption) or sha256 (a content identity, e.g. to"
          + " compare with published per-tensor digests; several times the CPU). Default: ${DEFAULT-VALUE}.")
  Digest digest;

  @Option(names = "--check-finite",
      description = "Count NaN and infinite values of every written tensor into the report (one extra read of each"
          + " shard, from the page cache when local).")
  boolean checkFinite;

  @Option(names = "--fail-on-nonfinite",
      description = "Fail a checkpoint whose written tensors hold NaN or infinity (implies --check-finite): nothing"
          + " is committed for it and the error lists the tensors.")
  boolean failOnNonfinite;

  @Option(names = "--fail-fast",
      description = "Stop the run at the first checkpoint that fails (default: report it and convert the others).")
  boolean failFast;

  @Option(names = "--log-format", defaultValue = "human", paramLabel = "human|json",
      description = "Console log lines for people (default) or one JSON object per line for log systems.")
  LogSetup.Format logFormat;

  @Option(names = "--verbose", description = "Per-tensor detail in the log and the plan.")
  boolean verbose;

  @Mixin RunnerOptions runner;

  @Mixin StorageOptions storage;

  @Option(names = "--temp-location", paramLabel = "DIR",
      description = "Where workers leave the run's outcomes for this process. Default: this machine's temp folder"
          + " with embedded runners; OUTPUT/.sat2diffusers-runs on a cluster (it must be storage both can reach).")
  String tempLocation;

  @Override
  public Integer call() {
    LogSetup.configure(logFormat, verbose, System.err);
    PrintWriter out = spec.commandLine().getOut();
    PipelineOptions options;
    List<CheckpointJob> jobs;
    try {
      options = storage.applyTo(runner.pipelineOptions());
      options.as(ConversionOptions.class).setFailFast(failFast);
      options.as(ConversionOptions.class).setCheckFinite(checkFinite || failOnNonfinite);
      options.as(ConversionOptions.class).setFailOnNonfinite(failOnNonfinite);
      options.as(ConversionOptions.class).setDigest(digest);
      FileSystems.setDefaultPipelineOptions(options);
      checkUsage();
      jobs = manifest != null ? JobManifest.read(Paths2.absolute(manifest)) : JobExpander.expand(request(settings()));
    } catch (IllegalArgumentException | UsageException e) {
      LOG.severe(ErrorText.of(e));
      return ExitCodes.USAGE;
    } catch (InvalidJobsException e) {
      LOG.severe(ErrorText.of(e));
      return manifest != null ? ExitCodes.USAGE : ExitCodes.INVALID_INPUT;
    } catch (IOException | RuntimeException e) {
      LOG.severe(ErrorText.of(e));
      return ExitCodes.INVALID_INPUT;
    }
    for (CheckpointJob job : jobs) {
      LOG.info(String.format("%s (iteration %s, %d file(s)) -> %s", job.source(), job.iteration(), job.files().size(),
          job.outputDir()));
    }
    runner.tuneDirectRunner(options, jobs.stream().allMatch(j -> StorageFiles.isLocal(j.outputDir())));
    return dryRun ? dryRun(jobs, out) : convert(options, jobs, out);
  }

  private int dryRun(List<CheckpointJob> jobs, PrintWriter out) {
    List<DryRun.Planned> plans = DryRun.plan(jobs, RandomAccessInputs::open);
    PlanPrinter.print(plans, verbose, out);
    try {
      if (planJson != null) {
        StorageFiles.writeString(Paths2.absolute(planJson), PlanPrinter.json(plans));
      }
    } catch (Exception e) {
      LOG.severe("cannot write --plan-json " + planJson + ": " + ErrorText.of(e));
      return ExitCodes.FAILED;
    }
    return plans.stream().allMatch(DryRun.Planned::ok) ? ExitCodes.OK : ExitCodes.INVALID_INPUT;
  }

  private int convert(PipelineOptions options, List<CheckpointJob> jobs, PrintWriter out) {
    long start = System.nanoTime();
    List<CheckpointOutcome> outcomes;
    try {
      outcomes = new ConversionRun(options, runLogDir(jobs), overwrite, PROGRESS_EVERY_MILLIS, LOG::info).execute(jobs);
    } catch (Exception e) {
      LOG.severe(ErrorText.of(e));
      return ExitCodes.FAILED;
    }
    RunSummaryPrinter.print(jobs, outcomes, (System.nanoTime() - start) / 1e9, logFormat, out);
    return ExitCodes.of(outcomes);
  }

  private String runLogDir(List<CheckpointJob> jobs) {
    if (tempLocation != null) {
      return Paths2.absolute(tempLocation);
    }
    if (runner.workersAreLocal()) {
      return Paths2.absolute(System.getProperty("java.io.tmpdir"));
    }
    return (output != null ? Paths2.absolute(output) : jobs.get(0).outputDir()) + "/.sat2diffusers-runs";
  }

  /** Combinations picocli cannot check by itself. */
  private void checkUsage() throws UsageException {
    boolean cliJobs = !sources.isEmpty() || !sourceRoots.isEmpty();
    if (manifest != null && (cliJobs || output != null)) {
      throw new UsageException("--manifest replaces --source, --source-root and --output: give one or the other");
    }
    if (manifest == null && !cliJobs) {
      throw new UsageException("nothing to convert: give --source, --source-root or --manifest");
    }
    if (manifest == null && output == null) {
      throw new UsageException("--output is required with --source or --source-root");
    }
    if (linkBase && basePipeline == null) {
      throw new UsageException("--link needs --base-pipeline");
    }
    if (basePipeline != null && output != null && Paths2.absolute(basePipeline).equals(Paths2.absolute(output))) {
      throw new UsageException("--base-pipeline and --output name the same folder: write the complete pipeline elsewhere");
    }
    if (manifest != null && (loraFoldScale || !"merge".equals(loraMode))) {
      throw new UsageException("--lora-mode and --lora-fold-scale apply to --source/--source-root jobs, not to a --manifest");
    }
    if (loraFoldScale && "merge".equals(loraMode)) {
      throw new UsageException("--lora-fold-scale needs --lora-mode adapter or both");
    }
    if (planJson != null && !dryRun) {
      throw new UsageException("--plan-json needs --dry-run");
    }
    if (maxDepth != null && manifest != null) {
      throw new UsageException("--max-depth applies to --source-root; in a --manifest give max_depth per job");
    }
    if (maxDepth != null && maxDepth < 0) {
      throw new UsageException("--max-depth must be 0 or more, got " + maxDepth);
    }
  }

  private JobRequest request(ConversionSettings settings) {
    List<String> absoluteSources = sources.stream().map(Paths2::absolute).toList();
    List<String> absoluteRoots = sourceRoots.stream().map(Paths2::absolute).toList();
    IterationSelection selection = iterations == null ? null : IterationSelection.parse(iterations);
    return new JobRequest(absoluteSources, absoluteRoots, selection, Paths2.absolute(output), settings,
        maxDepth == null ? TreeListing.DEFAULT_MAX_DEPTH : maxDepth);
  }

  private ConversionSettings settings() throws IOException {
    if (!"auto".equals(model)) {
      ModelFamily.fromCliName(model);
    }
    List<Component> selected = new ArrayList<>();
    for (String c : components) {
      selected.add(Component.fromFolder(c.trim()));
    }
    long shardBytes = maxShardSize == null ? 0 : SizeParser.parse(maxShardSize);
    String yaml = satConfig == null ? null : StorageFiles.readString(Paths2.absolute(satConfig), 1 << 20);
    ConversionSettings settings =
        new ConversionSettings(loraAlpha, dtype.dtype(), vaeDtype.dtype(), shardBytes, model, yaml, selected)
            .withUnknownKeys(UnknownKeys.fromCli(unknownKeys))
            .withLoraExport(LoraMode.fromCliName(loraMode), loraFoldScale);
    return basePipeline == null ? settings
        : settings.withBasePipeline(BasePipelines.read(Paths2.absolute(basePipeline), linkBase));
  }

  /** A combination of options that cannot work; exit code 2. */
  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }

  /** {@code --digest} by its name, case-insensitive. */
  static final class DigestConverter implements ITypeConverter<Digest> {
    @Override
    public Digest convert(String value) {
      return Digest.of(value);
    }
  }
}
