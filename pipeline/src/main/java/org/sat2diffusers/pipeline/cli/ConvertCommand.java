package org.sat2diffusers.pipeline.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.logging.Logger;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptions;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.run.ConversionRun;
import org.sat2diffusers.pipeline.run.DryRun;
import org.sat2diffusers.pipeline.steps.ConversionOptions;
import org.sat2diffusers.pipeline.jobs.InvalidJobsException;
import org.sat2diffusers.pipeline.jobs.JobExpander;
import org.sat2diffusers.pipeline.jobs.JobManifest;
import org.sat2diffusers.pipeline.jobs.JobOption;
import org.sat2diffusers.pipeline.jobs.JobOptions;
import org.sat2diffusers.pipeline.jobs.JobValues;
import org.sat2diffusers.pipeline.jobs.NamedInput;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.runner.RunnerOptions;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.pipeline.storage.OutputOverlap;
import org.sat2diffusers.pipeline.storage.StorageOptions;
import org.sat2diffusers.pipeline.write.ShardFiles;
import picocli.CommandLine.Command;
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
      "The options from --source to --weights are a job's: a --manifest job takes them as fields of the"
          + " same name in snake_case (docs/manifest.md). The others are the whole run's.",
      ExitCodes.HELP
    },
    sortOptions = false,
    modelTransformer = JobOptions.OnCommandLine.class)
public final class ConvertCommand implements Callable<Integer> {
  private static final Logger LOG = Logger.getLogger("sat2diffusers");
  private static final long PROGRESS_EVERY_MILLIS = 10_000;

  @Spec CommandSpec spec;

  @Option(names = "--manifest", paramLabel = "jobs.yaml",
      description = "A YAML list of jobs, each with its own source, output and options (see docs/manifest.md)."
          + " Instead of the job options (--source, --output, ...), which are fields of its jobs.")
  String manifest;

  @Option(names = "--dry-run",
      description = "Index, detect, map and plan, then print the plan instead of writing. Reads no tensor data.")
  boolean dryRun;

  @Option(names = "--plan-json", paramLabel = "FILE", description = "With --dry-run: also write the plan as JSON.")
  String planJson;

  @Option(names = "--overwrite",
      description = "Convert even when the output's commit marker says it is up to date (same sources, converter"
          + " version and options). Without it, such outputs are skipped.")
  boolean overwrite;

  @Option(names = "--fail-fast", description = ConversionOptions.FAIL_FAST)
  boolean failFast;

  @Option(names = "--log-format", defaultValue = "human", paramLabel = "human|json",
      description = "Console log lines for people (default) or one JSON object per line for log systems.")
  LogSetup.Format logFormat;

  @Option(names = "--verbose", description = "Per-tensor detail in the log and the plan.")
  boolean verbose;

  @Mixin RunnerOptions runner;

  @Mixin StorageOptions storage;

  @Mixin RunLogOptions runLogOptions;

  /** The --output of a command line's job (absolute), null with --manifest. */
  private String output;

  @Override
  public Integer call() {
    LogSetup.configure(logFormat, verbose, System.err);
    PrintWriter out = spec.commandLine().getOut();
    PipelineOptions options;
    List<CheckpointJob> jobs;
    try {
      options = storage.applyTo(runner.pipelineOptions());
      options.as(ConversionOptions.class).setFailFast(failFast);
      FileSystems.setDefaultPipelineOptions(options);
      List<NamedInput> inputs = new ArrayList<>();
      if (manifest != null) {
        JobManifest.Contents contents = fromManifest();
        jobs = contents.jobs();
        inputs.add(new NamedInput(Paths2.absolute(manifest), "--manifest"));
        inputs.addAll(contents.inputs());
      } else {
        JobValues job = fromCommandLine();
        output = Paths2.absolute(job.output());
        jobs = JobExpander.expand(job.request(Paths2::absolute));
        inputs.addAll(job.inputs(JobOption::cliName, Paths2::absolute));
      }
      OutputOverlap.check(jobs, inputs, planJson == null ? null : Paths2.absolute(planJson));
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
    runner.tuneDirectRunner(options, jobs.stream().allMatch(j -> ShardFiles.writesInParallel(j.outputDir())), jobs.size());
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
    return runLogOptions.runLogDir(runner, output != null ? output : jobs.get(0).outputDir());
  }

  /** The jobs of a --manifest, which replaces the job options on the command line. */
  private JobManifest.Contents fromManifest() throws IOException, UsageException {
    List<JobOption> given = JobOptions.given(spec.commandLine().getParseResult());
    if (!given.isEmpty()) {
      throw new UsageException(given.get(0).cliName() + " is a field of each job in a --manifest ("
          + given.get(0).field() + "): give it there");
    }
    checkRunOptions();
    return JobManifest.read(Paths2.absolute(manifest));
  }

  /** The job the command line's options make, with the combinations picocli cannot check by itself. */
  private JobValues fromCommandLine() throws UsageException {
    JobValues job = JobOptions.fromCommandLine(spec.commandLine().getParseResult());
    if (job.sources().isEmpty() && job.sourceRoots().isEmpty()) {
      throw new UsageException("nothing to convert: give --source, --source-root or --manifest");
    }
    if (job.output() == null) {
      throw new UsageException("--output is required with --source or --source-root");
    }
    List<String> conflicts = job.conflicts(JobOption::cliName, Paths2::absolute);
    if (!conflicts.isEmpty()) {
      throw new UsageException(String.join("; ", conflicts));
    }
    checkRunOptions();
    return job;
  }

  private void checkRunOptions() throws UsageException {
    if (planJson != null && !dryRun) {
      throw new UsageException("--plan-json needs --dry-run");
    }
  }

  /** A combination of options that cannot work; exit code 2. */
  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }
}
