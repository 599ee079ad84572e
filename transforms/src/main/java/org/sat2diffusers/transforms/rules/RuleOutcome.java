package org.sat2diffusers.transforms.rules;

import java.util.List;
import org.sat2diffusers.transforms.records.ComponentTensor;
import org.sat2diffusers.transforms.records.Disposition.Fate;

/**
 * What a rule made of one tensor: the output tensors (under their final keys) and the rule, readable.
 *
 * @param input the tensor the rule looked at
 * @param outputs what it became (empty when dropped)
 * @param fate mapped, split or dropped
 * @param rule the rule, readable, for the report
 */
public record RuleOutcome(ComponentTensor input, List<ComponentTensor> outputs, Fate fate, String rule) {
  public RuleOutcome {
    outputs = List.copyOf(outputs);
  }

  public static RuleOutcome mapped(ComponentTensor input, String newKey, String rule) {
    return new RuleOutcome(input, List.of(input.withKey(newKey)), Fate.MAPPED, rule);
  }

  public static RuleOutcome split(ComponentTensor input, List<ComponentTensor> outputs, String rule) {
    return new RuleOutcome(input, outputs, Fate.SPLIT, rule);
  }

  public static RuleOutcome dropped(ComponentTensor input, String rule) {
    return new RuleOutcome(input, List.of(), Fate.DROPPED, rule);
  }
}
