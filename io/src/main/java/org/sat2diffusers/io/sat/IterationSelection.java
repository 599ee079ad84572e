package org.sat2diffusers.io.sat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which iterations of a run to convert: {@code latest} (the default), {@code all}, or a list such as
 * {@code 500,1000,1000-ema} ({@code -ema} iterations are checkpoints of their own). {@code latest} is
 * the iteration the run's {@code latest} file names; a run without that file gets its highest
 * numeric iteration ({@code 1000} rather than {@code 1000-ema} or {@code release}).
 */
public final class IterationSelection {
  private static final String LATEST = "latest";
  private static final String ALL = "all";

  private final String text;
  private final List<String> named;

  private IterationSelection(String text, List<String> named) {
    this.text = text;
    this.named = List.copyOf(named);
  }

  /** The run's latest iteration: see {@link SatRun#latestIteration}. */
  public static IterationSelection latest() {
    return new IterationSelection(LATEST, List.of());
  }

  public static IterationSelection all() {
    return new IterationSelection(ALL, List.of());
  }

  /** Parses {@code latest}, {@code all} or comma-separated iteration folder names. */
  public static IterationSelection parse(String text) {
    String trimmed = text == null ? "" : text.trim();
    if (trimmed.equals(LATEST)) {
      return latest();
    }
    if (trimmed.equals(ALL)) {
      return all();
    }
    Set<String> names = new LinkedHashSet<>();
    for (String part : trimmed.split(",", -1)) {
      String name = part.trim();
      if (name.isEmpty() || name.contains("/") || name.equals(LATEST) || name.equals(ALL) || name.equals("..")) {
        throw new IllegalArgumentException("iterations '" + text
            + "': expected latest, all, or iteration folder names separated by commas (e.g. 500,1000,1000-ema)");
      }
      names.add(name);
    }
    return new IterationSelection(String.join(",", names), new ArrayList<>(names));
  }

  /**
   * The iterations of {@code run} this selection names, in the run's order for {@code all}, else as given.
   *
   * @throws SatLayoutException naming the run, the iterations missing and those present
   */
  public List<String> select(SatRun run) throws SatLayoutException {
    if (text.equals(LATEST)) {
      return List.of(run.latestIteration());
    }
    if (text.equals(ALL)) {
      if (run.iterations().isEmpty()) {
        throw new SatLayoutException(run.path() + " holds no iteration folder with mp_rank_00_model_states.pt");
      }
      return run.iterations();
    }
    List<String> missing = named.stream().filter(i -> !run.iterations().contains(i)).toList();
    if (!missing.isEmpty()) {
      throw new SatLayoutException(run.path() + " has no iteration " + String.join(", ", missing)
          + "; iterations present: " + run.describeIterations());
    }
    return named;
  }

  /**
   * The steps of a trainer's output folder ({@code checkpoint-<step>/} folders) this selection names:
   * {@code latest} is the highest step, {@code all} every step, a list names steps ({@code 500} or
   * {@code checkpoint-500}), in the order given.
   *
   * @param folder the output folder, for messages
   * @param steps the steps present, ascending
   * @throws SatLayoutException naming the folder, the steps missing and those present
   */
  public List<Long> selectSteps(String folder, List<Long> steps) throws SatLayoutException {
    if (steps.isEmpty()) {
      throw new SatLayoutException(folder + " holds no checkpoint-<step> folder");
    }
    if (text.equals(LATEST)) {
      return List.of(steps.get(steps.size() - 1));
    }
    if (text.equals(ALL)) {
      return steps;
    }
    List<Long> chosen = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (String name : named) {
      String number = name.startsWith("checkpoint-") ? name.substring("checkpoint-".length()) : name;
      Long step = number.matches("\\d{1,18}") ? Long.valueOf(number) : null;
      if (step == null || !steps.contains(step)) {
        missing.add(name);
      } else {
        chosen.add(step);
      }
    }
    if (!missing.isEmpty()) {
      throw new SatLayoutException(folder + " has no checkpoint for step " + String.join(", ", missing)
          + "; steps present: " + steps.stream().map(String::valueOf).collect(Collectors.joining(", ")));
    }
    return chosen;
  }

  /** The option value, e.g. {@code latest} or {@code 500,1000}. */
  @Override
  public String toString() {
    return text;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IterationSelection other && text.equals(other.text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }
}
