package org.sat2diffusers.transforms.rules;

import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.transforms.records.ComponentTensor;

/**
 * SAT CogVideoX transformer keys to {@code CogVideoXTransformer3DModel} keys (DESIGN.md section 4):
 * the published ordered renames, then the splits and re-orderings that need code. The position table
 * is renamed like any key: whether it is a frozen sincos table to drop depends on the model family,
 * which only detection knows, so the planner decides that ({@code CheckpointPlanner}).
 */
public final class TransformerRules implements ComponentRules {
  static final SubstringRenames RENAMES = SubstringRenames.of(
      "transformer.final_layernorm", "norm_final",
      "transformer", "transformer_blocks",
      "attention", "attn1",
      "mlp", "ff.net",
      "dense_h_to_4h", "0.proj",
      "dense_4h_to_h", "2",
      ".layers", "",
      "dense", "to_out.0",
      "input_layernorm", "norm1.norm",
      "post_attn1_layernorm", "norm2.norm",
      "time_embed.0", "time_embedding.linear_1",
      "time_embed.2", "time_embedding.linear_2",
      "ofs_embed.0", "ofs_embedding.linear_1",
      "ofs_embed.2", "ofs_embedding.linear_2",
      "mixins.patch_embed", "patch_embed",
      "mixins.final_layer.norm_final", "norm_out.norm",
      "mixins.final_layer.linear", "proj_out",
      "mixins.final_layer.adaLN_modulation.1", "norm_out.linear",
      "mixins.pos_embed.pos_embedding", "patch_embed.pos_embedding");

  /** Keys containing any of these have no place in the Diffusers model. */
  static final List<String> DROPPED_SUBSTRINGS = List.of("embed_tokens", "freqs_sin", "freqs_cos", "position_embedding");

  static final String QKV = "query_key_value";
  static final List<String> QKV_PARTS = List.of("to_q", "to_k", "to_v");
  static final String QUERY_NORMS = "query_layernorm_list";
  static final String KEY_NORMS = "key_layernorm_list";
  static final String ADALN = "adaln_layer.adaLN_modulations";

  /**
   * SAT's per-layer adaLN linear yields 12 chunks; Diffusers' norm1.linear takes chunks 0-2 and 6-8
   * (shift, scale, gate of the attention and of the text stream), norm2.linear chunks 3-5 and 9-11.
   */
  static final int ADALN_CHUNKS = 12;
  static final int[] NORM1_CHUNKS = {0, 1, 2, 6, 7, 8};
  static final int[] NORM2_CHUNKS = {3, 4, 5, 9, 10, 11};

  @Override
  public List<RuleOutcome> apply(List<ComponentTensor> tensors) {
    return tensors.stream().map(TransformerRules::apply).toList();
  }

  private static RuleOutcome apply(ComponentTensor t) {
    String key = RENAMES.apply(t.key());
    for (String dropped : DROPPED_SUBSTRINGS) {
      if (key.contains(dropped)) {
        return RuleOutcome.dropped(t, "drop: contains '" + dropped + "' (not a Diffusers parameter)");
      }
    }
    if (key.contains(QKV)) {
      List<ComponentTensor> chunks = t.chunks(QKV_PARTS.size());
      List<ComponentTensor> out = new ArrayList<>();
      for (int i = 0; i < chunks.size(); i++) {
        out.add(chunks.get(i).withKey(key.replace(QKV, QKV_PARTS.get(i))));
      }
      return RuleOutcome.split(t, out, "split query_key_value into to_q/to_k/to_v along dim 0");
    }
    if (key.contains(QUERY_NORMS) || key.contains(KEY_NORMS)) {
      String list = key.contains(QUERY_NORMS) ? QUERY_NORMS : KEY_NORMS;
      String norm = list.equals(QUERY_NORMS) ? "norm_q" : "norm_k";
      String[] parts = key.split("\\.");
      String newKey = "transformer_blocks." + parts[parts.length - 2] + ".attn1." + norm + "." + parts[parts.length - 1];
      return RuleOutcome.mapped(t, newKey, "move " + list + ".<i> to transformer_blocks.<i>.attn1." + norm);
    }
    if (key.contains(ADALN)) {
      return splitAdaLn(t, key);
    }
    return RuleOutcome.mapped(t, key, "rename");
  }

  private static RuleOutcome splitAdaLn(ComponentTensor t, String key) {
    String[] parts = key.split("\\.");
    String layer = parts[parts.length - 3];
    String weightOrBias = parts[parts.length - 1];
    List<ComponentTensor> chunks = t.chunks(ADALN_CHUNKS);
    String prefix = "transformer_blocks." + layer + ".";
    return RuleOutcome.split(
        t,
        List.of(
            ComponentTensor.concatRows(prefix + "norm1.linear." + weightOrBias, pick(chunks, NORM1_CHUNKS)),
            ComponentTensor.concatRows(prefix + "norm2.linear." + weightOrBias, pick(chunks, NORM2_CHUNKS))),
        "split adaLN modulation: 12 chunks, norm1.linear = 0,1,2,6,7,8, norm2.linear = 3,4,5,9,10,11");
  }

  private static List<ComponentTensor> pick(List<ComponentTensor> chunks, int[] indices) {
    List<ComponentTensor> out = new ArrayList<>();
    for (int i : indices) {
      out.add(chunks.get(i));
    }
    return out;
  }
}
