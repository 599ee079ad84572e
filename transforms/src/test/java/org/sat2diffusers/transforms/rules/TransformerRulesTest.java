package org.sat2diffusers.transforms.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sat2diffusers.transforms.records.TestTensors.source;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.transforms.records.ComponentTensor;
import org.sat2diffusers.transforms.records.Disposition.Fate;

class TransformerRulesTest {
  @Test
  void appliesThePublishedRenamesInOrder() {
    assertEquals("norm_final.weight", TransformerRules.RENAMES.apply("transformer.final_layernorm.weight"));
    assertEquals("transformer_blocks.3.norm2.norm.bias",
        TransformerRules.RENAMES.apply("transformer.layers.3.post_attention_layernorm.bias"));
    assertEquals("transformer_blocks.0.ff.net.0.proj.weight",
        TransformerRules.RENAMES.apply("transformer.layers.0.mlp.dense_h_to_4h.weight"));
    assertEquals("transformer_blocks.0.ff.net.2.weight",
        TransformerRules.RENAMES.apply("transformer.layers.0.mlp.dense_4h_to_h.weight"));
    assertEquals("transformer_blocks.0.attn1.to_out.0.bias",
        TransformerRules.RENAMES.apply("transformer.layers.0.attention.dense.bias"));
    assertEquals("ofs_embedding.linear_2.weight", TransformerRules.RENAMES.apply("ofs_embed.2.weight"));
    assertEquals("norm_out.linear.weight", TransformerRules.RENAMES.apply("mixins.final_layer.adaLN_modulation.1.weight"));
    assertEquals("patch_embed.pos_embedding", TransformerRules.RENAMES.apply("mixins.pos_embed.pos_embedding"));
  }

  @Test
  void splitsQueryKeyValueIntoThirds() {
    ComponentTensor qkv = tensor("transformer.layers.1.attention.query_key_value.weight", 6, 4);
    RuleOutcome outcome = apply(qkv);
    assertEquals(Fate.SPLIT, outcome.fate());
    assertEquals(List.of("transformer_blocks.1.attn1.to_q.weight", "transformer_blocks.1.attn1.to_k.weight",
        "transformer_blocks.1.attn1.to_v.weight"), keys(outcome));
    long start = qkv.sources().get(0).offset();
    for (int i = 0; i < 3; i++) {
      assertEquals(List.of(new ByteRange("f", start + i * 16, 16)), outcome.outputs().get(i).sources());
      assertEquals(List.of(2L, 4L), outcome.outputs().get(i).shape());
    }
  }

  @Test
  void reordersAdaLnChunksIntoNorm1AndNorm2() {
    ComponentTensor adaLn = tensor("mixins.adaln_layer.adaLN_modulations.4.1.bias", 24);
    RuleOutcome outcome = apply(adaLn);
    assertEquals(List.of("transformer_blocks.4.norm1.linear.bias", "transformer_blocks.4.norm2.linear.bias"), keys(outcome));
    long start = adaLn.sources().get(0).offset();
    List<ByteRange> norm1 = new ArrayList<>();
    for (int chunk : new int[] {0, 1, 2, 6, 7, 8}) {
      norm1.add(new ByteRange("f", start + chunk * 4L, 4)); // 2 F16 elements per chunk
    }
    assertEquals(norm1, outcome.outputs().get(0).sources());
    assertEquals(List.of(12L), outcome.outputs().get(1).shape());
  }

  @Test
  void movesQueryAndKeyNormsIntoTheirBlocks() {
    assertEquals(List.of("transformer_blocks.2.attn1.norm_q.weight"),
        keys(apply(tensor("mixins.adaln_layer.query_layernorm_list.2.weight", 8))));
    assertEquals(List.of("transformer_blocks.0.attn1.norm_k.bias"),
        keys(apply(tensor("mixins.adaln_layer.key_layernorm_list.0.bias", 8))));
  }

  @Test
  void dropsBuffersAndRenamesThePositionTable() {
    for (String key : List.of("mixins.pos_embed.freqs_sin", "mixins.pos_embed.freqs_cos", "transformer.embed_tokens.weight",
        "mixins.patch_embed.position_embedding")) {
      assertEquals(Fate.DROPPED, apply(tensor(key, 4)).fate(), key);
    }
    // sincos or learned is the model family's to say: the planner drops a sincos table after detection
    ComponentTensor table = tensor("mixins.pos_embed.pos_embedding", 1, 11, 16);
    assertEquals(Fate.MAPPED, apply(table).fate());
    assertEquals(List.of("patch_embed.pos_embedding"), keys(apply(table)));
  }

  @Test
  void refusesAQueryKeyValueThatDoesNotSplitInThree() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> apply(tensor("transformer.layers.0.attention.query_key_value.weight", 7, 4)));
    assertTrue(e.getMessage().contains("query_key_value.weight"), e.getMessage());
  }

  private static RuleOutcome apply(ComponentTensor t) {
    return new TransformerRules().apply(List.of(t)).get(0);
  }

  private static ComponentTensor tensor(String key, long... shape) {
    return ComponentTensor.of(key, source("f", key, Dtype.F16, shape));
  }

  private static List<String> keys(RuleOutcome outcome) {
    return outcome.outputs().stream().map(ComponentTensor::key).toList();
  }
}
