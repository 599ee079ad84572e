package org.sat2diffusers.pipeline.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.logging.Logger;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.sat2diffusers.io.sat.SatCheckpoint;
import org.sat2diffusers.io.sat.SatLayout;
import org.sat2diffusers.io.storage.FileFingerprint;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.ConversionOptions;
import org.sat2diffusers.pipeline.ConversionPipeline;
import org.sat2diffusers.pipeline.DryRun;
import org.sat2diffusers.pipeline.UpToDate;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Stage;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Status;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.pipeline.steps.RunLog;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.plan.Component;
import org.sat2diffusers.transforms.shard.SizeParser;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code convert}: SAT checkpoints to Diffusers folders, on the embedded Beam runner. */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    description = {
      "Converts a SAT CogVideoX checkpoint (run folder, iteration folder, .pt file, or the released"
          + " transformer/ + vae/ layout) into a Diffusers pipeline folder.",
      ExitCodes.HELP
    },
    sortOptions = false)
public final class ConvertCommand implements Callable<Integer> {
  private static final Logger LOG = Logger.getLogger("sat2diffusers");
  private static final long PROGRESS_EVERY_MILLIS = 10_000;

  @Spec CommandSpec spec;

  @Option(names = "--source", required = true, paramLabel = "PATH",
      description = "SAT run folder (its 'latest' picks the iteration), iteration folder, .pt file, or released layout folder."
          + " Never modified: opened read-only.")
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

  @Option(names = "--components", split = ",", paramLabel = "NAME",
      description = "Convert only these of transformer, vae, text_encoder (e.g. just the transformer of a fine-tune,"
          + " taking the rest from the base model). model_index.json and scheduler/ are then not written.")
  List<String> components = new ArrayList<>();

  @Option(names = "--dry-run",
      description = "Index, detect, map and plan, then print the plan instead of writing. Reads no tensor data.")
  boolean dryRun;

  @Option(names = "--plan-json", paramLabel = "FILE", description = "With --dry-run: also write the plan as JSON.")
  String planJson;

  @Option(names = "--overwrite",
      description = "Convert even when the output's commit marker says it is up to date (same sources, converter"
          + " version and options). Without it, such outputs are skipped.")
  boolean overwrite;

  @Option(names = "--fail-fast",
      description = "Stop the run at the first checkpoint that fails (default: report it and convert the others).")
  boolean failFast;

  @Option(names = "--log-format", defaultValue = "human", paramLabel = "human|json",
      description = "Console log lines for people (default) or one JSON object per line for log systems.")
  LogSetup.Format logFormat;

  @Option(names = "--verbose", description = "Per-tensor detail in the log and the plan.")
  boolean verbose;

  @Override
  public Integer call() {
    LogSetup.configure(logFormat, verbose, System.err);
    PrintWriter out = spec.commandLine().getOut();
    ConversionSettings settings;
    try {
      settings = settings();
    } catch (IllegalArgumentException | IOException e) {
      LOG.severe(ErrorText.of(e));
      return ExitCodes.USAGE;
    }
    PipelineOptions options = PipelineOptionsFactory.create();
    options.setRunner(DirectRunner.class);
    FileSystems.setDefaultPipelineOptions(options);

    List<CheckpointJob> jobs;
    try {
      jobs = List.of(job(settings));
    } catch (IOException | RuntimeException e) {
      LOG.severe(ErrorText.of(e));
      return ExitCodes.INVALID_INPUT;
    }
    if (dryRun) {
      return dryRun(jobs, out);
    }
    return convert(options, jobs, out);
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
    List<CheckpointOutcome> outcomes = new ArrayList<>();
    List<CheckpointJob> todo = new ArrayList<>();
    try {
      for (CheckpointJob job : jobs) {
        if (!overwrite && UpToDate.check(job)) {
          outcomes.add(new CheckpointOutcome(job.id(), Status.SKIPPED, Stage.PLAN, "up to date", 0, 0));
        } else {
          todo.add(job);
        }
      }
      if (!todo.isEmpty()) {
        String runLog = runLogDir(options) + "/sat2diffusers-run-" + UUID.randomUUID() + ".json";
        if (options.getRunner() == DirectRunner.class) {
          options.as(DirectOptions.class).setBlockOnRun(false); // so progress can be reported meanwhile
        }
        options.as(ConversionOptions.class).setFailFast(failFast);
        PipelineResult result = ConversionPipeline.build(options, todo, runLog).run();
        ProgressReporter.follow(result, PROGRESS_EVERY_MILLIS, todo.size(), LOG::info);
        outcomes.addAll(RunLog.fromJson(StorageFiles.readString(runLog, 64 << 20)));
        StorageFiles.delete(List.of(runLog));
      }
    } catch (Exception e) {
      LOG.severe(ErrorText.of(e));
      return ExitCodes.FAILED;
    }
    RunSummaryPrinter.print(jobs, outcomes, (System.nanoTime() - start) / 1e9, logFormat, out);
    return ExitCodes.of(outcomes);
  }

  /**
   * Where workers leave the run's outcomes for the driver: Beam's --tempLocation when set (shared
   * storage on a cluster), else this machine's temp folder (embedded runners share it). Never the
   * output folder: a refused input must leave no trace there.
   */
  private static String runLogDir(PipelineOptions options) {
    String temp = options.getTempLocation();
    return temp != null && !temp.isBlank() ? temp : Paths2.absolute(System.getProperty("java.io.tmpdir"));
  }

  private CheckpointJob job(ConversionSettings settings) throws IOException {
    SatCheckpoint checkpoint = SatLayout.resolve(Paths2.absolute(source));
    String outputDir = Paths2.absolute(output);
    LOG.info(String.format("converting %s (iteration %s, %d file(s)) -> %s", source, checkpoint.iteration(),
        checkpoint.files().size(), output));
    List<FileFingerprint> fingerprints = new ArrayList<>();
    for (String file : checkpoint.files()) {
      fingerprints.add(StorageFiles.fingerprint(file));
    }
    return new CheckpointJob(
        outputDir, source, checkpoint.iteration(), checkpoint.files(), outputDir, settings, fingerprints);
  }

  private ConversionSettings settings() throws IOException {
    if (!"auto".equals(model)) {
      ModelFamily.fromCliName(model);
    }
    if (planJson != null && !dryRun) {
      throw new IllegalArgumentException("--plan-json needs --dry-run");
    }
    List<Component> selected = new ArrayList<>();
    for (String c : components) {
      selected.add(Component.fromFolder(c.trim()));
    }
    long shardBytes = maxShardSize == null ? 0 : SizeParser.parse(maxShardSize);
    String yaml = satConfig == null ? null : StorageFiles.readString(Paths2.absolute(satConfig), 1 << 20);
    return new ConversionSettings(loraAlpha, dtype.dtype(), vaeDtype.dtype(), shardBytes, model, yaml, selected);
  }
}
