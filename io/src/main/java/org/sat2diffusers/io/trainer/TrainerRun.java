package org.sat2diffusers.io.trainer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sat2diffusers.io.sat.IterationSelection;
import org.sat2diffusers.io.sat.SatCheckpoint;

/**
 * A Diffusers-based trainer's output folder and the {@code checkpoint-<step>/} folders in it, found by
 * {@link TrainerLayout}: the trainer's counterpart of a SAT run, its steps taking the place of
 * iterations ({@code --iterations 500,1000}, {@code latest} = the highest step, {@code all}).
 *
 * @param path the output folder
 * @param relativePath its path below the root it was discovered from (empty for the root itself), or
 *     its name when it was given as a source
 * @param steps each step's checkpoint folder
 */
public record TrainerRun(String path, String relativePath, Map<Long, String> steps) {
  public TrainerRun {
    steps = new TreeMap<>(steps);
  }

  /** The checkpoints {@code selection} names, by step. */
  public List<SatCheckpoint> checkpoints(IterationSelection selection) throws IOException {
    List<Long> chosen = selection.selectSteps(path, List.copyOf(steps.keySet()));
    List<SatCheckpoint> checkpoints = new ArrayList<>();
    for (long step : chosen) {
      checkpoints.add(TrainerLayout.of(path, TrainerCheckpoint.recognize(steps.get(step))));
    }
    return checkpoints;
  }

  /** Whether {@code path} is one of this run's checkpoint folders or lies in one. */
  public boolean holds(String other) {
    return steps.values().stream().anyMatch(f -> other.equals(f) || other.startsWith(f + "/"));
  }
}
