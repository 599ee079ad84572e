package org.sat2diffusers.transforms.records;

import java.util.List;

/**
 * What became of one source key: every source tensor ends up mapped, split, merged into another
 * (LoRA), or dropped, always with the rule that decided it.
 *
 * @param sourceKey full key in the checkpoint
 * @param fate what happened
 * @param component the component it went to, or null when dropped
 * @param outputs the output keys it contributes to (empty when dropped)
 * @param rule the rule that decided it, readable ("rename", "split query_key_value into to_q/to_k/to_v",
 *     "drop: frozen sincos position table", ...)
 */
public record Disposition(String sourceKey, Fate fate, Component component, List<String> outputs, String rule) {
  public enum Fate {
    MAPPED,
    SPLIT,
    LORA_MERGED,
    DROPPED
  }

  public Disposition {
    outputs = List.copyOf(outputs);
  }
}
