package org.sat2diffusers.transforms.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.transforms.records.ComponentTensor;
import org.sat2diffusers.transforms.records.DiffusersTensor;
import org.sat2diffusers.transforms.records.SatTensor;

/**
 * {@code AutoencoderKLCogVideoX} keys back to SAT VAE keys: the up blocks numbered back, then the
 * forward renames undone in reverse order ({@link SubstringRenames#inverse()}). Every key found is
 * then run through the forward {@link VaeRules}, which must give the Diffusers key again: a forward
 * rule this inverse does not undo fails here, naming the key, instead of writing a wrong name.
 */
public final class VaeInverseRules {
  static final SubstringRenames INVERSE_RENAMES = VaeRules.RENAMES.inverse();
  private static final Pattern UP_BLOCK = Pattern.compile("^decoder\\.up_blocks\\.(\\d+)\\.");

  private VaeInverseRules() {}

  /** SAT VAE tensors (keys without {@code first_stage_model.}), one per Diffusers tensor, same order. */
  public static List<SatTensor> apply(List<DiffusersTensor> tensors) {
    int upBlocks = countUpBlocks(tensors);
    List<SatTensor> out = new ArrayList<>();
    List<ComponentTensor> standIns = new ArrayList<>();
    for (DiffusersTensor t : tensors) {
      String key = t.key();
      Matcher up = UP_BLOCK.matcher(key);
      boolean upBlock = up.find();
      if (upBlock) {
        key = "decoder.up." + (upBlocks - 1 - Integer.parseInt(up.group(1))) + "." + key.substring(up.end());
      }
      key = INVERSE_RENAMES.apply(key);
      out.add(new SatTensor(key, t.dtype(), t.shape(), t.dtype(), List.of(t.bytes()), null, null, List.of(t.key()),
          "rename (forward rules inverted" + (upBlock ? "; up_blocks.i becomes up.(" + upBlocks + "-1-i))" : ")")));
      standIns.add(new ComponentTensor(key, t.dtype(), t.shape(), List.of(new ByteRange(t.key(), 0, 0)), null,
          List.of(key), null));
    }
    List<RuleOutcome> forward = new VaeRules().apply(standIns);
    for (RuleOutcome o : forward) {
      String diffusersKey = o.input().sources().get(0).file();
      if (o.outputs().size() != 1 || !o.outputs().get(0).key().equals(diffusersKey)) {
        throw new IllegalArgumentException("vae: " + diffusersKey + " has no SAT name the forward rules map back to it"
            + " (tried " + o.input().key() + ", which becomes " + o.outputs().stream().map(ComponentTensor::key).toList()
            + ")");
      }
    }
    return out;
  }

  private static int countUpBlocks(List<DiffusersTensor> tensors) {
    TreeSet<Integer> found = new TreeSet<>();
    for (DiffusersTensor t : tensors) {
      Matcher up = UP_BLOCK.matcher(t.key());
      if (up.find()) {
        found.add(Integer.parseInt(up.group(1)));
      }
    }
    if (!found.isEmpty() && found.last() != found.size() - 1) {
      throw new IllegalArgumentException("vae: decoder up_blocks must be numbered 0..n-1, found " + found);
    }
    return found.size();
  }
}
