package org.sat2diffusers.transforms.model;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Read access to the shapes of one component's tensors (Diffusers / transformers names), with
 * errors that name the component, the tensor and what was expected of it.
 */
public final class TensorShapes {
  private final String component;
  private final Map<String, List<Long>> shapes;

  public TensorShapes(String component, Map<String, List<Long>> shapes) {
    this.component = component;
    this.shapes = shapes;
  }

  public String component() {
    return component;
  }

  public boolean has(String key) {
    return shapes.containsKey(key);
  }

  /** The shape of {@code key}; {@code rank} is checked when it is not negative. */
  public List<Long> shape(String key, int rank) {
    List<Long> shape = shapes.get(key);
    if (shape == null) {
      throw new ModelInferenceException(component + ": tensor '" + key + "' is missing");
    }
    if (rank >= 0 && shape.size() != rank) {
      throw new ModelInferenceException(
          component + ": tensor '" + key + "' has shape " + shape + ", expected " + rank + " dimensions");
    }
    return shape;
  }

  /** Dimension {@code index} of {@code key}, which must have {@code rank} dimensions. */
  public int dim(String key, int rank, int index) {
    return Math.toIntExact(shape(key, rank).get(index));
  }

  /**
   * The number of numbered children under {@code prefix} (e.g. {@code transformer_blocks.}): the
   * indices found must be exactly 0..n-1.
   */
  public int countIndexed(String prefix) {
    Pattern p = Pattern.compile(Pattern.quote(prefix) + "(\\d+)\\.");
    TreeSet<Integer> indices = new TreeSet<>();
    for (String key : shapes.keySet()) {
      Matcher m = p.matcher(key);
      if (m.lookingAt()) {
        indices.add(Integer.parseInt(m.group(1)));
      }
    }
    if (indices.isEmpty()) {
      throw new ModelInferenceException(component + ": no tensors under '" + prefix + "<i>.'");
    }
    if (indices.last() != indices.size() - 1) {
      TreeSet<Integer> missing = new TreeSet<>();
      for (int i = 0; i < indices.last(); i++) {
        if (!indices.contains(i)) {
          missing.add(i);
        }
      }
      throw new ModelInferenceException(component + ": '" + prefix + "<i>.' has no tensors for i = " + missing
          + " (found up to " + indices.last() + ")");
    }
    return indices.size();
  }

  /** {@code numerator / divisor}, failing with {@code what} when it does not divide exactly. */
  public int exactQuotient(long numerator, long divisor, String what) {
    if (divisor <= 0 || numerator % divisor != 0) {
      throw new ModelInferenceException(
          component + ": " + what + ": " + numerator + " is not a multiple of " + divisor);
    }
    return Math.toIntExact(numerator / divisor);
  }
}
