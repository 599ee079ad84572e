package org.sat2diffusers.transforms.rules;

import java.util.List;
import org.sat2diffusers.transforms.records.ComponentTensor;

/**
 * A component whose keys already are its Diffusers names (a Diffusers-based trainer's module): every
 * tensor is kept under its name. Whether the names are the Diffusers model's parameters is the
 * planner's schema check, as for converted keys.
 */
public final class DiffusersNameRules implements ComponentRules {
  @Override
  public List<RuleOutcome> apply(List<ComponentTensor> tensors) {
    return tensors.stream().map(t -> RuleOutcome.mapped(t, t.key(), "keep: already a Diffusers name")).toList();
  }
}
