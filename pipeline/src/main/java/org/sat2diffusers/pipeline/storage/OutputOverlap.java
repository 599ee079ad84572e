package org.sat2diffusers.pipeline.storage;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.sat2diffusers.io.storage.RealPaths;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.jobs.NamedInput;
import org.sat2diffusers.pipeline.records.CheckpointJob;

/**
 * Refuses, before anything is written, a run whose outputs would overlap its inputs: an output
 * folder or {@code --plan-json} that is a source, lies inside a source tree or holds one. Source
 * trees: the source given, each checkpoint's iteration folder and its SAT run folder (the folder
 * above, when it holds {@code latest} or {@code model_config.json}), a {@code --vae} file, and the other
 * inputs (every job's SAT config and base pipeline, the manifest). Paths are compared in their real form
 * ({@link RealPaths}: links, {@code ..} and letter case resolved), across all jobs of the run, so a
 * job's output may not be another job's source or SAT config either. {@code convert} checks its
 * jobs; {@code to-sat} its Diffusers folders and SAT run folders, with the same rule and messages.
 */
public final class OutputOverlap {
  private static final Pattern RANK_FILE = Pattern.compile("(mp|z3)_rank_\\d+_model_states\\.pt");

  private OutputOverlap() {}

  /** A path as given, what it is, and its real form. */
  private record Place(String given, String role, String real) {
    String describe() {
      return role + " " + given + (real.equals(given) ? "" : " (really " + real + ")");
    }
  }

  /**
   * The check for a run of {@code convert}: each job's sources (source, {@code --vae}, checkpoint
   * files, iteration and run folders) and the other inputs, against every job's output folder and
   * {@code --plan-json}.
   *
   * @param jobs every job of the run
   * @param inputs the other files and folders the run reads: every job's SAT config and base
   *     pipeline, the manifest
   * @param planJson the {@code --plan-json} file, or null
   * @throws Overlap naming each write target and the source it overlaps
   * @throws IOException when a path cannot be resolved (e.g. a link loop)
   */
  public static void check(List<CheckpointJob> jobs, List<NamedInput> inputs, String planJson) throws IOException {
    List<NamedInput> sources = new ArrayList<>();
    for (CheckpointJob job : jobs) {
      sources.add(new NamedInput(job.source(), "source"));
      if (job.vae() != null) {
        sources.add(new NamedInput(job.vae(), "--vae"));
      }
      for (String file : job.files()) {
        sources.add(new NamedInput(file, "checkpoint file"));
        String folder = parent(file);
        if (folder == null) {
          continue;
        }
        if (RANK_FILE.matcher(file.substring(file.lastIndexOf('/') + 1)).matches() || job.recipeFolder(folder) != null) {
          sources.add(new NamedInput(folder, "iteration folder"));
          String run = parent(folder);
          if (run != null && (StorageFiles.exists(run + "/latest") || StorageFiles.exists(run + "/model_config.json"))) {
            sources.add(new NamedInput(run, "run folder"));
          }
        } else if (StorageFiles.exists(folder + "/model_config.json")) {
          sources.add(new NamedInput(folder + "/model_config.json", "run model_config.json"));
        }
      }
    }
    sources.addAll(inputs);
    List<NamedInput> targets = new ArrayList<>();
    for (CheckpointJob job : jobs) {
      targets.add(new NamedInput(job.outputDir(), "output folder"));
    }
    if (planJson != null) {
      targets.add(new NamedInput(planJson, "--plan-json"));
    }
    check(sources, targets);
  }

  /**
   * The check itself, over plain paths: no target may be, lie inside or hold any source (in real form).
   * Every command that writes calls it before it writes ({@code convert} through the job form above).
   *
   * @param sources what the run reads, each with the name messages give it ({@code source}, {@code --manifest})
   * @param targets what the run writes, named the same way ({@code output folder})
   * @throws Overlap naming each write target and the source it overlaps
   * @throws IOException when a path cannot be resolved (e.g. a link loop)
   */
  public static void check(List<NamedInput> sources, List<NamedInput> targets) throws IOException {
    List<Place> sourcePlaces = new ArrayList<>();
    for (NamedInput source : sources) {
      sourcePlaces.add(place(source.path(), source.name()));
    }
    Set<Place> targetPlaces = new LinkedHashSet<>();
    for (NamedInput target : targets) {
      targetPlaces.add(place(target.path(), target.name()));
    }
    List<String> problems = new ArrayList<>();
    for (Place target : targetPlaces) {
      Set<String> named = new HashSet<>(); // one line per source place, however many roles it has
      for (Place source : sourcePlaces) {
        String how = RealPaths.contains(source.real(), target.real())
            ? (source.real().equals(target.real()) ? " is " : " is inside ")
            : RealPaths.contains(target.real(), source.real()) ? " holds " : null;
        if (how != null && named.add(source.real())) {
          problems.add(target.describe() + how + source.describe());
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new Overlap(problems);
    }
  }

  private static Place place(String path, String role) throws IOException {
    return new Place(path, role, RealPaths.of(path));
  }

  private static String parent(String path) {
    int slash = path.lastIndexOf('/');
    return slash <= 0 ? null : path.substring(0, slash);
  }

  /** Outputs that overlap inputs: a usage error, refused before anything is written (exit code 2). */
  public static final class Overlap extends IllegalArgumentException {
    Overlap(List<String> problems) {
      super("outputs would overwrite or sit inside inputs; nothing was written:\n  " + String.join("\n  ", problems));
    }
  }
}
