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
 * job's output may not be another job's source or SAT config either.
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
   * @param jobs every job of the run
   * @param inputs the other files and folders the run reads: every job's SAT config and base
   *     pipeline, the manifest
   * @param planJson the {@code --plan-json} file, or null
   * @throws Overlap naming each write target and the source it overlaps
   * @throws IOException when a path cannot be resolved (e.g. a link loop)
   */
  public static void check(List<CheckpointJob> jobs, List<NamedInput> inputs, String planJson) throws IOException {
    List<Place> sources = new ArrayList<>();
    for (CheckpointJob job : jobs) {
      sources.add(place(job.source(), "source"));
      if (job.vae() != null) {
        sources.add(place(job.vae(), "--vae"));
      }
      for (String file : job.files()) {
        sources.add(place(file, "checkpoint file"));
        String folder = parent(file);
        if (folder == null) {
          continue;
        }
        if (RANK_FILE.matcher(file.substring(file.lastIndexOf('/') + 1)).matches() || job.recipeFolder(folder) != null) {
          sources.add(place(folder, "iteration folder"));
          String run = parent(folder);
          if (run != null && (StorageFiles.exists(run + "/latest") || StorageFiles.exists(run + "/model_config.json"))) {
            sources.add(place(run, "run folder"));
          }
        } else if (StorageFiles.exists(folder + "/model_config.json")) {
          sources.add(place(folder + "/model_config.json", "run model_config.json"));
        }
      }
    }
    for (NamedInput input : inputs) {
      sources.add(place(input.path(), input.name()));
    }
    Set<Place> targets = new LinkedHashSet<>();
    for (CheckpointJob job : jobs) {
      targets.add(place(job.outputDir(), "output folder"));
    }
    if (planJson != null) {
      targets.add(place(planJson, "--plan-json"));
    }
    List<String> problems = new ArrayList<>();
    for (Place target : targets) {
      Set<String> named = new HashSet<>(); // one line per source place, however many roles it has
      for (Place source : sources) {
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
