package org.sat2diffusers.transforms.parallel;

import java.util.List;
import org.sat2diffusers.transforms.records.SourceTensor;

/**
 * A checkpoint's tensors with its model-parallel ranks merged into one model.
 *
 * @param tensors every tensor as the planner takes it, in state-dict order (rank 0's order)
 * @param replicated the tensors held in full by every rank, whose copies must be checked equal
 *     (empty for a checkpoint of one rank)
 * @param ranks the number of model-parallel ranks (1 when not model-parallel)
 */
public record RankedSources(List<SourceTensor> tensors, List<ReplicatedTensor> replicated, int ranks) {
  public RankedSources {
    tensors = List.copyOf(tensors);
    replicated = List.copyOf(replicated);
  }
}
