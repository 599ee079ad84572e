package org.sat2diffusers.transforms.rules;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.transforms.records.ComponentTensor;

/**
 * The T5 conditioner: its keys, prefix stripped, already are {@code T5EncoderModel} keys. Tied weights
 * share one storage; the Diffusers folder keeps one name per storage, the one transformers saves.
 */
public final class TextEncoderRules implements ComponentRules {
  /** When several keys are views of one storage, these names win (T5 ties encoder.embed_tokens to shared). */
  static final List<String> PREFERRED_TIED_NAMES = List.of("shared.weight");

  @Override
  public List<RuleOutcome> apply(List<ComponentTensor> tensors) {
    Map<String, ComponentTensor> keeperOfView = keepers(tensors);
    List<RuleOutcome> out = new ArrayList<>();
    for (ComponentTensor t : tensors) {
      ComponentTensor keeper = keeperOfView.get(viewId(t));
      if (keeper != null && keeper != t) {
        out.add(RuleOutcome.dropped(t, "drop: tied alias of " + keeper.key() + " (same storage)"));
      } else {
        out.add(RuleOutcome.mapped(t, t.key(), "strip prefix"));
      }
    }
    return out;
  }

  /** For each storage view shared by several keys, the key kept: a preferred name, else the first. */
  private static Map<String, ComponentTensor> keepers(List<ComponentTensor> tensors) {
    Map<String, ComponentTensor> keepers = new HashMap<>();
    for (ComponentTensor t : tensors) {
      String view = viewId(t);
      if (view == null) {
        continue;
      }
      keepers.merge(view, t, (kept, next) -> PREFERRED_TIED_NAMES.contains(next.key())
          && !PREFERRED_TIED_NAMES.contains(kept.key()) ? next : kept);
    }
    return keepers;
  }

  /** Identifies identical views of one storage (same file, storage, offset, dtype, shape, stride); null when unshared. */
  private static String viewId(ComponentTensor t) {
    TensorRecord r = t.origin().tensor();
    if (r.sharedWith().isEmpty() || t.lora() != null) {
      return null;
    }
    return t.origin().file() + "|" + r.storageKey() + "|" + r.storageOffset() + "|" + r.dtype() + r.shape() + r.stride();
  }
}
