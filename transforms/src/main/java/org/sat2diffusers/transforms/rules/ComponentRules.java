package org.sat2diffusers.transforms.rules;

import java.util.List;
import org.sat2diffusers.transforms.records.ComponentTensor;

/** The conversion rules of one component: one outcome per tensor, in input order. */
public interface ComponentRules {
  List<RuleOutcome> apply(List<ComponentTensor> tensors);
}
