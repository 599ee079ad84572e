package org.sat2diffusers.transforms.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.sat2diffusers.transforms.records.DiffusersTensor;
import org.sat2diffusers.transforms.records.SatTensor;

/**
 * The T5 encoder back into SAT's conditioner: the keys stay {@code T5EncoderModel} keys, and the
 * tied alias the forward rules drop comes back as SAT saves it, a second name of the same storage.
 */
public final class TextEncoderInverseRules {
  /** Each tied alias SAT's state dict holds, with the name the Diffusers folder keeps ({@link TextEncoderRules}). */
  static final Map<String, String> TIED_ALIASES = Map.of("encoder.embed_tokens.weight", "shared.weight");

  private TextEncoderInverseRules() {}

  /** SAT conditioner tensors (keys without the prefix): each alias right after the tensor it shares. */
  public static List<SatTensor> apply(List<DiffusersTensor> tensors) {
    Set<String> keys = tensors.stream().map(DiffusersTensor::key).collect(Collectors.toSet());
    List<SatTensor> out = new ArrayList<>();
    for (DiffusersTensor t : tensors) {
      out.add(new SatTensor(t.key(), t.dtype(), t.shape(), t.dtype(), List.of(t.bytes()), null, null, List.of(t.key()),
          "same key (T5EncoderModel)"));
      TIED_ALIASES.forEach((alias, kept) -> {
        if (kept.equals(t.key()) && !keys.contains(alias)) {
          if (!TextEncoderRules.PREFERRED_TIED_NAMES.contains(kept)) {
            throw new IllegalStateException(kept + " is not the name the forward rules keep of a tied pair");
          }
          out.add(new SatTensor(alias, t.dtype(), t.shape(), t.dtype(), List.of(), null, kept, List.of(t.key()),
              "tied alias of " + kept + " restored (one storage, as SAT saves T5)"));
        }
      });
    }
    return out;
  }
}
