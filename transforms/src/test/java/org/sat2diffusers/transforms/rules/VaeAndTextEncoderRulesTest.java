package org.sat2diffusers.transforms.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.sat2diffusers.transforms.records.TestTensors.source;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.transforms.records.ComponentTensor;
import org.sat2diffusers.transforms.records.SourceTensor;

class VaeAndTextEncoderRulesTest {
  @Test
  void reversesTheDecoderUpBlocksByTheirCount() {
    List<ComponentTensor> vae = List.of(
        tensor("decoder.up.2.block.0.conv1.conv.weight"), tensor("decoder.up.1.upsample.conv.bias"),
        tensor("decoder.up.0.block.1.nin_shortcut.weight"), tensor("encoder.down.0.downsample.conv.weight"),
        tensor("encoder.mid.block_2.norm1.weight"), tensor("decoder.mid.block_1.conv1.conv.bias"),
        tensor("loss.discriminator.blocks.0.weight"));
    assertEquals(List.of(
            "decoder.up_blocks.0.resnets.0.conv1.conv.weight", "decoder.up_blocks.1.upsamplers.0.conv.bias",
            "decoder.up_blocks.2.resnets.1.conv_shortcut.weight", "encoder.down_blocks.0.downsamplers.0.conv.weight",
            "encoder.mid_block.resnets.1.norm1.weight", "decoder.mid_block.resnets.0.conv1.conv.bias", "dropped"),
        describe(new VaeRules().apply(vae)));
  }

  @Test
  void keepsSharedWeightAndDropsItsTiedAliasWhateverTheOrder() {
    SourceTensor alias = shared("encoder.embed_tokens.weight", "shared.weight");
    SourceTensor shared = shared("shared.weight", "encoder.embed_tokens.weight");
    ComponentTensor q = tensor("encoder.block.0.layer.0.SelfAttention.q.weight");
    List<RuleOutcome> outcomes = new TextEncoderRules().apply(List.of(
        ComponentTensor.of(alias.key(), alias), q, ComponentTensor.of(shared.key(), shared)));
    assertEquals(List.of("dropped", "encoder.block.0.layer.0.SelfAttention.q.weight", "shared.weight"), describe(outcomes));
    assertEquals("drop: tied alias of shared.weight (same storage)", outcomes.get(0).rule());
  }

  /** Both keys view storage "emb" from offset 0 with the same shape. */
  private static SourceTensor shared(String key, String other) {
    return new SourceTensor("f", new TensorRecord(key, Dtype.BF16, List.of(4L, 2L), List.of(2L, 1L), "emb", 0, 640, 16, List.of(other)));
  }

  private static ComponentTensor tensor(String key) {
    return ComponentTensor.of(key, source("f", key, Dtype.F32, 2));
  }

  private static List<String> describe(List<RuleOutcome> outcomes) {
    return outcomes.stream()
        .map(o -> o.outputs().isEmpty() ? "dropped" : o.outputs().get(0).key())
        .toList();
  }
}
