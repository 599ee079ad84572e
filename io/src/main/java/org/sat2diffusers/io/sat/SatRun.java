package org.sat2diffusers.io.sat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A SAT run folder (or a released layout) and the iterations it holds, as found by
 * {@link SatDiscovery} or {@link SatLayout#findRun}.
 */
public final class SatRun {
  private final String path;
  private final String relativePath;
  private final String latest;
  private final Map<String, List<String>> stateFiles;
  private final List<String> vaeFiles;

  /**
   * @param path the run folder (for a released layout: the folder holding {@code transformer/} and {@code vae/})
   * @param relativePath its path below the root it was discovered from, empty for the root itself
   * @param latest what its {@code latest} file names, or null when it has none
   * @param stateFiles each iteration folder's {@code *_model_states.pt} files
   * @param vaeFiles the released layout's {@code vae/*.pt}, empty for a run folder
   */
  SatRun(String path, String relativePath, String latest, Map<String, List<String>> stateFiles, List<String> vaeFiles) {
    this.path = path;
    this.relativePath = relativePath;
    this.latest = latest;
    TreeMap<String, List<String>> sorted = new TreeMap<>(IterationNames.ORDER);
    stateFiles.forEach((iteration, files) -> sorted.put(iteration, List.copyOf(files)));
    this.stateFiles = sorted;
    this.vaeFiles = List.copyOf(vaeFiles);
  }

  public String path() {
    return path;
  }

  /** The run's path below the discovery root ({@code team/cogvideox-2b-sft}); empty when the root is the run. */
  public String relativePath() {
    return relativePath;
  }

  /** The run folder's own name. */
  public String name() {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  /** The iteration the run's {@code latest} file names (it may name a folder that is missing). */
  public Optional<String> latest() {
    return Optional.ofNullable(latest);
  }

  /** Every iteration folder present: numbered ones by step ({@code 500, 1000, 1000-ema}), then others ({@code release}). */
  public List<String> iterations() {
    return List.copyOf(stateFiles.keySet());
  }

  /** Whether this is the released layout ({@code transformer/<iter>/} plus {@code vae/*.pt}). */
  public boolean released() {
    return !vaeFiles.isEmpty();
  }

  /**
   * The iteration {@code --iterations latest} means: the one {@code latest} names, or, for a run without
   * a {@code latest} file, its highest numeric iteration ({@code -ema} and named iterations are never
   * picked this way).
   */
  public String latestIteration() throws SatLayoutException {
    if (latest != null) {
      return latest;
    }
    return stateFiles.keySet().stream()
        .filter(i -> IterationNames.step(i) != null)
        .reduce((a, b) -> b)
        .orElseThrow(() -> new SatLayoutException(
            path + " has no 'latest' file and no numeric iteration folder (it holds " + describeIterations()
                + "): name the iteration to convert"));
  }

  /** The checkpoint of one iteration: its rank file, then the released layout's VAE file. */
  public SatCheckpoint checkpoint(String iteration) throws SatLayoutException {
    List<String> candidates = stateFiles.get(iteration);
    if (candidates == null) {
      String because = iteration.equals(latest) ? " ('latest' names it)" : "";
      throw new SatLayoutException(
          path + " has no iteration " + iteration + because + ": expected " + iterationFolder(iteration)
              + "/mp_rank_00_model_states.pt; iterations present: " + describeIterations());
    }
    try {
      return SatLayout.iteration(path, iteration, path + "/" + iterationFolder(iteration), vaeFiles);
    } catch (SatLayoutException e) {
      throw e;
    } catch (IOException e) {
      throw new SatLayoutException(path + "/" + iterationFolder(iteration) + " cannot be listed: " + e.getMessage());
    }
  }

  /** The iterations present, for messages. */
  public String describeIterations() {
    return stateFiles.isEmpty() ? "none" : String.join(", ", stateFiles.keySet());
  }

  private String iterationFolder(String iteration) {
    return released() ? "transformer/" + iteration : iteration;
  }

  @Override
  public String toString() {
    return path + " (iterations " + describeIterations() + (latest == null ? "" : ", latest " + latest) + ")";
  }
}
