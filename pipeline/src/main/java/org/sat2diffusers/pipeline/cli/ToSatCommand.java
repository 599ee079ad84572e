package org.sat2diffusers.pipeline.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptions;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.jobs.DtypeChoice;
import org.sat2diffusers.pipeline.jobs.NamedInput;
import org.sat2diffusers.pipeline.jobs.ToSatManifest;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.records.ToSatJob;
import org.sat2diffusers.pipeline.runner.RunnerOptions;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.pipeline.steps.RunLog;
import org.sat2diffusers.pipeline.storage.OutputOverlap;
import org.sat2diffusers.pipeline.storage.StorageOptions;
import org.sat2diffusers.pipeline.tosat.DiffusersFolderConversion;
import org.sat2diffusers.pipeline.tosat.SatRunCommit;
import org.sat2diffusers.pipeline.tosat.ToSatPipeline;
import org.sat2diffusers.transforms.records.SatTensor;
import org.sat2diffusers.transforms.reverse.SatRunPlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code to-sat}: the way back, Diffusers CogVideoX folders written as SAT runs that SAT loads and
 * trains on: one folder from the command line, or a {@code --manifest} of them. Each folder is one
 * element of a Beam pipeline ({@link ToSatPipeline}; DirectRunner by default, any runner of {@code
 * convert}), converted whole by one worker through the torch checkpoint writer: every tensor a
 * byte-range recipe of the Diffusers files, streamed once; the sincos table of CogVideoX-2B
 * recomputed. Committed like {@code convert}: outputs never overlap a source, each output is locked,
 * files are staged and {@code latest} is written last.
 */
@Command(
    name = "to-sat",
    mixinStandardHelpOptions = true,
    description = {
      "Converts a Diffusers CogVideoX folder (transformer, and vae/ and text_encoder/ when present) into a SAT run:"
          + " SAT_RUN_DIR/<N>/mp_rank_00_model_states.pt, latest, model_config.json and the SAT model config"
          + " fragment model_config.yaml (what convert --sat-config reads).",
      "The options from --source to --lora-rank are a job's: a --manifest job (kind: to-sat) takes them as fields"
          + " of the same name in snake_case (docs/manifest.md). The others are the whole run's.",
      ExitCodes.HELP
    },
    sortOptions = false)
public final class ToSatCommand implements Callable<Integer> {
  /** The job options, which a --manifest gives as fields of each job instead. */
  private static final List<String> JOB_OPTIONS = List.of("--source", "--output", "--iteration", "--model", "--dtype",
      "--lora-rank");

  @Spec CommandSpec spec;

  @Option(names = "--source", paramLabel = "DIFFUSERS_DIR",
      description = "A Diffusers pipeline folder: transformer/ (one file or shards, with or without an index), and"
          + " vae/, text_encoder/, scheduler/ when present. Only read.")
  String source;

  @Option(names = "--output", paramLabel = "SAT_RUN_DIR",
      description = "The SAT run folder to write (created if needed; other iterations in it are left alone).")
  String output;

  @Option(names = "--iteration", defaultValue = "1", paramLabel = "N",
      description = "The iteration folder to write, which latest then names. Default: ${DEFAULT-VALUE}.")
  int iteration;

  @Option(names = "--model", defaultValue = "auto", paramLabel = "auto|cogvideox-2b|...",
      description = "The family: auto reads transformer/config.json (positions, patches), else the tensors.")
  String model;

  @Option(names = "--dtype", defaultValue = "keep", paramLabel = "keep|bf16|fp16|fp32",
      description = "Cast the transformer and the text encoder (round to nearest even); the VAE keeps its dtype."
          + " Default: ${DEFAULT-VALUE}.")
  DtypeChoice dtype;

  @Option(names = "--lora-rank", paramLabel = "R",
      description = "Write transformer/pytorch_lora_weights.safetensors as SAT lora2 of rank R (original weights"
          + " plus matrix_A/matrix_B; lora_alpha in model_config.yaml gives the adapter's scale). Without it, a"
          + " folder with an adapter is refused: merge it first with merge-lora.")
  Integer loraRank;

  @Option(names = "--manifest", paramLabel = "jobs.yaml",
      description = "A YAML list of kind: to-sat jobs, each with its own source, output and options (see"
          + " docs/manifest.md). Instead of the job options (--source, --output, ...), which are fields of its jobs.")
  String manifest;

  @Option(names = "--dry-run", description = "Print the plan (every SAT tensor, its recipe and rule; what is"
      + " recomputed; what cannot come back) and write nothing.")
  boolean dryRun;

  @Mixin RunnerOptions runner;

  @Mixin StorageOptions storage;

  @Mixin RunLogOptions runLogOptions;

  @Override
  public Integer call() {
    LogSetup.configure(LogSetup.Format.human, false, System.err);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    PipelineOptions options;
    List<ToSatJob> jobs;
    try {
      options = storage.applyTo(runner.pipelineOptions());
      FileSystems.setDefaultPipelineOptions(options);
      List<NamedInput> sources = new ArrayList<>();
      if (manifest != null) {
        jobs = fromManifest();
        sources.add(new NamedInput(absolute(manifest), "--manifest"));
      } else {
        jobs = List.of(fromCommandLine());
      }
      if (!dryRun) {
        checkOutputs(jobs, sources);
      }
    } catch (IllegalArgumentException | IOException e) { // InvalidJobsException (the manifest's problems) is one
      err.println("error: " + ErrorText.of(e));
      return ExitCodes.USAGE;
    }
    if (dryRun) {
      return dryRun(jobs, out, err);
    }
    // each folder is written by one runner thread, in one bundle
    runner.tuneDirectRunner(options, true, jobs.size());
    List<CheckpointOutcome> outcomes;
    try {
      String runLog = runLogDir(jobs) + "/sat2diffusers-run-" + UUID.randomUUID() + ".json";
      ToSatPipeline.build(options, jobs, runLog).run().waitUntilFinish();
      outcomes = RunLog.fromJson(StorageFiles.readString(runLog, 64 << 20));
      StorageFiles.delete(List.of(runLog));
    } catch (Exception e) {
      err.println("error: " + ErrorText.of(e));
      return ExitCodes.FAILED;
    }
    for (CheckpointOutcome outcome : outcomes) {
      if (outcome.succeeded()) {
        out.println(outcome.message());
      } else {
        err.println("error: " + outcome.message());
      }
    }
    out.flush();
    err.flush();
    return ExitCodes.of(outcomes);
  }

  private ToSatJob fromCommandLine() {
    if (source == null || output == null) {
      throw new IllegalArgumentException("give --source and --output (one Diffusers folder), or --manifest");
    }
    return new ToSatJob(absolute(source), absolute(output), iteration, model, dtype.dtype(), loraRank);
  }

  private List<ToSatJob> fromManifest() throws IOException {
    for (String option : JOB_OPTIONS) {
      if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
        throw new IllegalArgumentException(option + " is a field of each job in a --manifest ("
            + option.substring(2).replace('-', '_') + "): give it there");
      }
    }
    return ToSatManifest.read(absolute(manifest));
  }

  /**
   * Refused before anything is written: an output that is, lies inside or holds any job's source (or
   * the manifest), and an iteration a run already has.
   */
  private static void checkOutputs(List<ToSatJob> jobs, List<NamedInput> sources) throws IOException {
    List<NamedInput> targets = new ArrayList<>();
    for (ToSatJob job : jobs) {
      sources.add(new NamedInput(job.source(), "source"));
      targets.add(new NamedInput(job.output(), "output folder"));
    }
    OutputOverlap.check(sources, targets);
    for (ToSatJob job : jobs) {
      String checkpoint = DiffusersFolderConversion.checkpoint(job);
      if (StorageFiles.exists(checkpoint)) {
        throw new IllegalArgumentException(checkpoint + " exists: the run already has iteration " + job.iteration()
            + "; give another iteration or remove it");
      }
    }
  }

  private int dryRun(List<ToSatJob> jobs, PrintWriter out, PrintWriter err) {
    int exit = ExitCodes.OK;
    for (ToSatJob job : jobs) {
      try {
        printPlan(out, job, DiffusersFolderConversion.plan(job));
      } catch (IllegalArgumentException | IOException e) { // ModelInferenceException is one
        err.println("error: " + job.source() + ": " + ErrorText.of(e));
        exit = ExitCodes.INVALID_INPUT;
      }
    }
    out.flush();
    err.flush();
    return exit;
  }

  /** Where the workers leave the run's outcomes: as convert chooses it. */
  private String runLogDir(List<ToSatJob> jobs) {
    return runLogOptions.runLogDir(runner, jobs.get(0).output());
  }

  /** As {@link Paths2#absolute}, a URI's trailing slash dropped too: SAT run paths are joined with "/". */
  private static String absolute(String path) {
    String absolute = Paths2.absolute(path);
    return absolute.contains("://") ? absolute.replaceAll("/+$", "") : absolute;
  }

  private static void printPlan(PrintWriter out, ToSatJob job, SatRunPlan plan) {
    out.printf("dry run: %s -> %s (nothing written)%n", job.source(), DiffusersFolderConversion.checkpoint(job));
    out.printf("family: %s (%s)%n", plan.family().displayName(), plan.familyEvidence());
    out.printf("%d tensors, %d bytes of storages%n", plan.tensors().size(), plan.storageBytes());
    for (SatTensor t : plan.tensors()) {
      String from = t.recomputed() ? "recomputed" : t.tiedTo() != null ? "storage of " + t.tiedTo()
          : t.sources().size() + " range(s) of " + String.join(", ", t.sourceKeys());
      out.printf("  %s %s%s <- %s: %s%n", t.key(), t.dtype().safetensorsName(), t.shape(), from, t.rule());
    }
    plan.recomputed().forEach(t -> out.printf("recomputed %s%n", t.key()));
    plan.notWritten().forEach(n -> out.printf("not written %s%n", n));
    out.printf("also: %s/%s, %s, %s%n", job.output(), SatRunCommit.LATEST, SatRunCommit.MODEL_CONFIG_JSON,
        SatRunCommit.CONFIG_YAML);
    out.flush();
  }
}
