package org.sat2diffusers.transforms.parallel;

import java.util.List;
import org.sat2diffusers.transforms.records.SourceTensor;

/**
 * A tensor every model-parallel rank holds in full; the conversion takes rank 0's, once the others
 * are checked to be the same bytes.
 *
 * @param key its state-dict key
 * @param ranks its record in each rank's file, rank 0 first
 */
public record ReplicatedTensor(String key, List<SourceTensor> ranks) {
  public ReplicatedTensor {
    ranks = List.copyOf(ranks);
  }
}
