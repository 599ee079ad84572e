package org.sat2diffusers.pipeline.jobs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;
import org.sat2diffusers.io.sat.SatCheckpoint;
import org.sat2diffusers.io.sat.SatDiscovery;
import org.sat2diffusers.io.sat.SatLayout;
import org.sat2diffusers.io.sat.SatRun;
import org.sat2diffusers.io.trainer.TrainerLayout;
import org.sat2diffusers.io.trainer.TrainerRun;
import org.sat2diffusers.transforms.convert.Weights;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.records.CheckpointJob;

/**
 * Turns a {@link JobRequest} into one {@link CheckpointJob} per checkpoint, with its run folder and
 * that folder's {@code model_config.json} (read once per run). Where each goes:
 * <ul>
 *   <li>exactly one checkpoint: {@code OUT};
 *   <li>one {@code --source} (and no root) with several iterations: {@code OUT/<iteration>};
 *   <li>otherwise {@code OUT/<run>/<iteration>}, where {@code <run>} is the run's path below its
 *       {@code --source-root}, or for a {@code --source} the run folder's name.
 * </ul>
 * A file given with {@code --vae} joins every checkpoint, after its own files (as the released
 * layout's {@code vae/} file does). An iteration folder or .pt file given as a source is one
 * checkpoint: {@code --iterations} does not apply to it (a warning says so when the option was
 * given). Every source is looked at before anything is reported, so one error lists every problem.
 */
public final class JobExpander {
  private static final Logger LOG = Logger.getLogger("sat2diffusers");

  private JobExpander() {}

  /** The jobs of one request, with distinct output folders. */
  public static List<CheckpointJob> expand(JobRequest request) throws InvalidJobsException {
    List<CheckpointJob> jobs = jobsOf(request);
    requireDistinctOutputs(jobs);
    return jobs;
  }

  /**
   * Fails when two jobs would write the same folder (two runs of the same name given with
   * {@code --source}, or overlapping manifest entries).
   */
  public static void requireDistinctOutputs(List<CheckpointJob> jobs) throws InvalidJobsException {
    Map<String, CheckpointJob> byOutput = new HashMap<>();
    List<String> problems = new ArrayList<>();
    for (CheckpointJob job : jobs) {
      CheckpointJob other = byOutput.putIfAbsent(job.outputDir(), job);
      if (other != null) {
        problems.add("two checkpoints would be written to " + job.outputDir() + ": " + describe(other) + " and "
            + describe(job) + " (give runs of the same name separate outputs, or use --source-root)");
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidJobsException("conflicting outputs", problems);
    }
  }

  /** The jobs of one request; output folders are not yet checked against each other. */
  static List<CheckpointJob> jobsOf(JobRequest request) throws InvalidJobsException {
    List<String> problems = new ArrayList<>();
    if (request.sources().isEmpty() && request.sourceRoots().isEmpty()) {
      problems.add("nothing to convert: give a source or a source root");
    }
    if (request.output() == null || request.output().isBlank()) {
      problems.add("no output folder given");
    }
    List<Found> found = new ArrayList<>();
    for (String source : request.sources()) {
      collect(() -> fromSource(source, request), found, problems);
    }
    for (String root : request.sourceRoots()) {
      List<TrainerRun> trainerRuns = new ArrayList<>();
      collect(() -> TrainerLayout.discover(root, request.maxDepth()), trainerRuns, problems);
      List<SatRun> runs = new ArrayList<>();
      collect(() -> discover(root, request.maxDepth(), trainerRuns), runs, problems);
      for (SatRun run : runs) {
        collect(() -> fromRun(run, run.relativePath(), request), found, problems);
      }
      for (TrainerRun run : trainerRuns) {
        collect(() -> fromTrainerRun(run, run.relativePath(), request), found, problems);
      }
    }
    if (request.settings().weights() == Weights.FP32_MASTER) {
      found.replaceAll(f -> {
        try {
          return new Found(f.runPath(), SatLayout.withFp32Masters(f.checkpoint()));
        } catch (IOException e) {
          problems.add(e.getMessage());
          return f;
        }
      });
    }
    if (request.vae() != null) {
      collect(() -> separateVaeProblems(request.vae(), found), problems, problems);
    }
    if (!problems.isEmpty()) {
      throw new InvalidJobsException("cannot expand the jobs", problems);
    }
    Map<String, Optional<String>> modelConfigs = new HashMap<>(); // by run folder: read once per run
    for (Found f : found) {
      String runFolder = SatLayout.runFolder(f.checkpoint());
      if (!modelConfigs.containsKey(runFolder)) {
        try {
          modelConfigs.put(runFolder, SatLayout.runModelConfig(f.checkpoint()));
        } catch (IOException e) {
          problems.add(runFolder + "/model_config.json cannot be read: " + e.getMessage());
          modelConfigs.put(runFolder, Optional.empty());
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidJobsException("cannot expand the jobs", problems);
    }
    boolean oneSourceOnly = request.sources().size() == 1 && request.sourceRoots().isEmpty();
    String out = stripSlash(request.output());
    List<CheckpointJob> jobs = new ArrayList<>();
    for (Found f : found) {
      String outputDir;
      if (found.size() == 1) {
        outputDir = out;
      } else if (oneSourceOnly || f.runPath().isEmpty()) {
        outputDir = out + "/" + f.checkpoint().iteration();
      } else {
        outputDir = out + "/" + f.runPath() + "/" + f.checkpoint().iteration();
      }
      SatCheckpoint c = f.checkpoint();
      String runFolder = SatLayout.runFolder(c);
      CheckpointJob job = new CheckpointJob(outputDir, c.source(), c.iteration(), c.files(), outputDir, request.settings(),
          runFolder, modelConfigs.get(runFolder).orElse(null)).withRecipeFolders(c.recipeFolders());
      jobs.add(request.vae() == null ? job : job.withVae(request.vae()));
    }
    return jobs;
  }

  private static List<Found> fromSource(String source, JobRequest request) throws IOException {
    // before SAT's layouts: a DeepSpeed checkpoint-<step> folder has a 'latest' as a SAT run does
    Optional<SatCheckpoint> trainerCheckpoint = TrainerLayout.checkpoint(source);
    if (trainerCheckpoint.isPresent()) {
      warnIterationsIgnored(source, trainerCheckpoint.get(), request);
      String folder = stripSlash(source);
      String outputFolder = folder.substring(0, Math.max(folder.lastIndexOf('/'), 0)); // the trainer's, named as its run
      return List.of(new Found(outputFolder.substring(outputFolder.lastIndexOf('/') + 1), trainerCheckpoint.get()));
    }
    Optional<TrainerRun> trainerRun = TrainerLayout.run(source);
    if (trainerRun.isPresent()) {
      return fromTrainerRun(trainerRun.get(), trainerRun.get().relativePath(), request);
    }
    Optional<SatRun> run = SatLayout.findRun(source);
    if (run.isEmpty()) {
      SatCheckpoint checkpoint = SatLayout.resolve(source);
      warnIterationsIgnored(source, checkpoint, request);
      return List.of(new Found(SatLayout.runName(checkpoint), checkpoint));
    }
    return fromRun(run.get(), run.get().name(), request);
  }

  /** What keeps {@code --vae} from joining the checkpoints found: a missing file, or one of their own files. */
  private static List<String> separateVaeProblems(String vae, List<Found> found) throws IOException {
    if (!StorageFiles.exists(vae)) {
      return List.of("--vae " + vae + " does not exist");
    }
    return found.stream().filter(f -> f.checkpoint().files().contains(vae))
        .map(f -> "--vae " + vae + " is a file of the checkpoint " + f.checkpoint().source() + " itself").toList();
  }

  private static void warnIterationsIgnored(String source, SatCheckpoint checkpoint, JobRequest request) {
    if (request.iterations() != null) {
      LOG.warning("iterations " + request.iterations() + " does not apply to " + source
          + ": an iteration folder, checkpoint folder or .pt file is one checkpoint (iteration "
          + checkpoint.iteration() + ")");
    }
  }

  /**
   * The SAT runs below {@code root}, but those inside a trainer's checkpoint folders (a DeepSpeed
   * {@code checkpoint-<step>/} looks like a SAT run to SAT's discovery: {@code latest} names its tag
   * folder); an error when there is neither a SAT run nor a trainer's output folder.
   */
  private static List<SatRun> discover(String root, int maxDepth, List<TrainerRun> trainerRuns) throws IOException {
    List<SatRun> runs = SatDiscovery.discover(root, maxDepth).stream()
        .filter(run -> trainerRuns.stream().noneMatch(t -> t.holds(run.path()))).toList();
    if (runs.isEmpty() && trainerRuns.isEmpty()) {
      throw new IOException("no SAT run below " + root + " (expected folders with 'latest', or with"
          + " <iteration>/mp_rank_00_model_states.pt) and no trainer output (folders with checkpoint-<step>/)");
    }
    return runs;
  }

  /** The checkpoints of a trainer's output folder that {@code --iterations} names (its steps). */
  private static List<Found> fromTrainerRun(TrainerRun run, String runPath, JobRequest request) throws IOException {
    return run.checkpoints(request.effectiveIterations()).stream().map(c -> new Found(runPath, c)).toList();
  }

  /** Adds what {@code step} finds to {@code into}, or its error to {@code problems}. */
  private static <T> void collect(Lookup<T> step, List<T> into, List<String> problems) {
    try {
      into.addAll(step.get());
    } catch (IOException e) {
      problems.add(e.getMessage());
    }
  }

  private interface Lookup<T> {
    List<T> get() throws IOException;
  }

  private static List<Found> fromRun(SatRun run, String runPath, JobRequest request) throws IOException {
    List<Found> found = new ArrayList<>();
    for (String iteration : request.effectiveIterations().select(run)) {
      found.add(new Found(runPath, run.checkpoint(iteration)));
    }
    return found;
  }

  private static String describe(CheckpointJob job) {
    return job.source() + " (iteration " + job.iteration() + ")";
  }

  private static String stripSlash(String path) {
    String p = path;
    while (p.length() > 1 && p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p;
  }

  /** A checkpoint and the path its run's outputs go under. */
  private record Found(String runPath, SatCheckpoint checkpoint) {}
}
