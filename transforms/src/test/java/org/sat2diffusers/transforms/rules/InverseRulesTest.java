package org.sat2diffusers.transforms.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.DiffusersTensor;
import org.sat2diffusers.transforms.records.SatTensor;

/**
 * The inverse rules on hand-made Diffusers tensors (each in a "file" named by its key, so a range
 * shows where its bytes come from): the orders SAT needs, and the refusals.
 */
class InverseRulesTest {
  private static final int H = 4;

  private static DiffusersTensor t(Component c, String key, long... shape) {
    List<Long> s = new ArrayList<>();
    long n = 2;
    for (long d : shape) {
      s.add(d);
      n *= d;
    }
    return new DiffusersTensor(c, key, Dtype.F16, s, new ByteRange(key, 100, n));
  }

  @Test
  void fusesQkvAsToQToKToVAndAdaLnInSatsChunkOrder() {
    List<SatTensor> sat = TransformerInverseRules.apply(List.of(
        t(Component.TRANSFORMER, "transformer_blocks.0.attn1.to_v.weight", H, H),
        t(Component.TRANSFORMER, "transformer_blocks.0.attn1.to_q.weight", H, H),
        t(Component.TRANSFORMER, "transformer_blocks.0.attn1.to_k.weight", H, H),
        t(Component.TRANSFORMER, "transformer_blocks.0.norm2.linear.weight", 6 * H, 3),
        t(Component.TRANSFORMER, "transformer_blocks.0.norm1.linear.weight", 6 * H, 3)));
    SatTensor qkv = sat.stream().filter(s -> s.key().endsWith("query_key_value.weight")).findFirst().orElseThrow();
    assertEquals("transformer.layers.0.attention.query_key_value.weight", qkv.key());
    assertEquals(List.of(3L * H, (long) H), qkv.shape());
    assertEquals(List.of("transformer_blocks.0.attn1.to_q.weight", "transformer_blocks.0.attn1.to_k.weight",
        "transformer_blocks.0.attn1.to_v.weight"), qkv.sources().stream().map(ByteRange::file).toList());
    SatTensor adaLn = sat.stream().filter(s -> s.key().contains("adaLN_modulations")).findFirst().orElseThrow();
    assertEquals("mixins.adaln_layer.adaLN_modulations.0.1.weight", adaLn.key());
    assertEquals(List.of(12L * H, 3L), adaLn.shape());
    long half = 3L * H * 3 * 2; // three chunks of H rows x 3 columns x 2 bytes
    assertEquals(List.of(
        new ByteRange("transformer_blocks.0.norm1.linear.weight", 100, half),
        new ByteRange("transformer_blocks.0.norm2.linear.weight", 100, half),
        new ByteRange("transformer_blocks.0.norm1.linear.weight", 100 + half, half),
        new ByteRange("transformer_blocks.0.norm2.linear.weight", 100 + half, half)), adaLn.sources());
  }

  @Test
  void refusesAKeyNoSatParameterBecomesAndAFusionWithAPartMissing() {
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> TransformerInverseRules.apply(
        List.of(t(Component.TRANSFORMER, "transformer_blocks.0.attn2.to_q.weight", H, H))));
    assertTrue(unknown.getMessage().contains("transformer_blocks.0.attn2.to_q.weight"), unknown.getMessage());
    IllegalArgumentException partial = assertThrows(IllegalArgumentException.class, () -> TransformerInverseRules.apply(
        List.of(t(Component.TRANSFORMER, "transformer_blocks.0.attn1.to_q.weight", H, H),
            t(Component.TRANSFORMER, "transformer_blocks.0.attn1.to_k.weight", H, H))));
    assertTrue(partial.getMessage().contains("[transformer_blocks.0.attn1.to_v.weight] are missing"), partial.getMessage());
  }

  @Test
  void vaeKeysGoBackAndTheForwardRulesAgree() {
    List<SatTensor> sat = VaeInverseRules.apply(List.of(
        t(Component.VAE, "decoder.up_blocks.0.resnets.1.conv_shortcut.weight", 2),
        t(Component.VAE, "decoder.up_blocks.1.upsamplers.0.conv.weight", 2),
        t(Component.VAE, "encoder.mid_block.resnets.1.norm1.weight", 2),
        t(Component.VAE, "encoder.down_blocks.0.downsamplers.0.conv.bias", 2)));
    assertEquals(List.of("decoder.up.1.block.1.nin_shortcut.weight", "decoder.up.0.upsample.conv.weight",
        "encoder.mid.block_2.norm1.weight", "encoder.down.0.downsample.conv.bias"),
        sat.stream().map(SatTensor::key).toList());
  }

  @Test
  void theT5AliasComesBackAsASecondNameOfTheSharedStorage() {
    List<SatTensor> sat = TextEncoderInverseRules.apply(List.of(
        t(Component.TEXT_ENCODER, "encoder.final_layer_norm.weight", 3), t(Component.TEXT_ENCODER, "shared.weight", 5, 3)));
    assertEquals(List.of("encoder.final_layer_norm.weight", "shared.weight", "encoder.embed_tokens.weight"),
        sat.stream().map(SatTensor::key).toList());
    assertEquals("shared.weight", sat.get(2).tiedTo());
    assertEquals(List.of(), sat.get(2).sources());
  }

  @Test
  void renamesInvertedRunBackwards() {
    SubstringRenames forward = SubstringRenames.of("a.", "b.", "b.c", "d");
    assertEquals("d", forward.apply("a.c"));
    assertEquals("a.c", forward.inverse().apply("d"));
  }
}
