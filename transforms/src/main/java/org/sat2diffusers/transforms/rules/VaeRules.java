package org.sat2diffusers.transforms.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.transforms.records.ComponentTensor;

/**
 * SAT CogVideoX VAE keys to {@code AutoencoderKLCogVideoX} keys (DESIGN.md section 4): ordered renames,
 * the decoder's up blocks in reverse order, the training loss dropped.
 */
public final class VaeRules implements ComponentRules {
  static final SubstringRenames RENAMES = SubstringRenames.of(
      "block.", "resnets.",
      "down.", "down_blocks.",
      "downsample", "downsamplers.0",
      "upsample", "upsamplers.0",
      "nin_shortcut", "conv_shortcut",
      "encoder.mid.block_1", "encoder.mid_block.resnets.0",
      "encoder.mid.block_2", "encoder.mid_block.resnets.1",
      "decoder.mid.block_1", "decoder.mid_block.resnets.0",
      "decoder.mid.block_2", "decoder.mid_block.resnets.1");

  static final String LOSS = "loss";

  /** SAT numbers the decoder's up blocks from the lowest resolution's end; Diffusers from the other. */
  private static final Pattern UP_BLOCK = Pattern.compile("^decoder\\.up\\.(\\d+)\\.");

  @Override
  public List<RuleOutcome> apply(List<ComponentTensor> tensors) {
    int upBlocks = countUpBlocks(tensors);
    List<RuleOutcome> out = new ArrayList<>();
    for (ComponentTensor t : tensors) {
      out.add(apply(t, upBlocks));
    }
    return out;
  }

  private static RuleOutcome apply(ComponentTensor t, int upBlocks) {
    if (t.key().contains(LOSS)) {
      return RuleOutcome.dropped(t, "drop: training loss (discriminator, logvar), not part of the VAE");
    }
    String key = RENAMES.apply(t.key());
    Matcher up = UP_BLOCK.matcher(key);
    if (up.find()) {
      int reversed = upBlocks - 1 - Integer.parseInt(up.group(1));
      return RuleOutcome.mapped(
          t, "decoder.up_blocks." + reversed + "." + key.substring(up.end()),
          "rename; decoder.up.i becomes up_blocks.(" + upBlocks + "-1-i)");
    }
    return RuleOutcome.mapped(t, key, "rename");
  }

  private static int countUpBlocks(List<ComponentTensor> tensors) {
    TreeSet<Integer> found = new TreeSet<>();
    for (ComponentTensor t : tensors) {
      Matcher up = UP_BLOCK.matcher(t.key());
      if (up.find()) {
        found.add(Integer.parseInt(up.group(1)));
      }
    }
    if (!found.isEmpty() && found.last() != found.size() - 1) {
      throw new IllegalArgumentException(
          "VAE decoder up blocks must be numbered 0..n-1, found " + found + " (in " + tensors.get(0).origin().file() + ")");
    }
    return found.size();
  }
}
