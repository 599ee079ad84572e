package org.sat2diffusers.io.torch;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the planner needs from one torch checkpoint, read without touching tensor bytes.
 *
 * @param path the file, as opened
 * @param wrapperKey the top-level key holding the state dict ({@code module}, {@code model},
 *     {@code state_dict}), or null when the top level is itself the state dict
 * @param tensors the state dict's tensors, in state-dict order
 * @param otherItems short descriptions of everything else, by key path (e.g. {@code iteration →
 *     long 1000}, {@code args → argparse.Namespace object (inert)}), in file order
 */
public record CheckpointIndex(
    String path, String wrapperKey, List<TensorRecord> tensors, Map<String, String> otherItems) {

  public CheckpointIndex {
    tensors = List.copyOf(tensors);
    otherItems = Collections.unmodifiableMap(new LinkedHashMap<>(otherItems));
  }
}
