package org.sat2diffusers.transforms.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.model.ModelInferenceException;
import org.sat2diffusers.transforms.model.SatTrainingConfig;
import org.sat2diffusers.transforms.model.TensorShapes;

/**
 * The {@code transformer/config.json} of a CogVideoXTransformer3DModel: sizes from the tensors,
 * sample sizes and text length from the SAT training YAML when given, the rest from the family.
 * The shapes are the transformer's in Diffusers names (the position table may still be there).
 */
public final class TransformerConfigInference {
  static final String CLASS_NAME = "CogVideoXTransformer3DModel";

  /**
   * @param config every constructor field Diffusers writes, keys sorted
   * @param warnings what a person should check (the config may not load or not match training)
   */
  public record Result(Map<String, Object> config, List<String> warnings) {}

  private TransformerConfigInference() {}

  public static Result infer(
      Map<String, List<Long>> shapes, ModelFamily family, Optional<SatTrainingConfig> sat) {
    TensorShapes t = new TensorShapes("transformer", shapes);
    List<String> warnings = new ArrayList<>();

    int hidden = t.dim("patch_embed.text_proj.weight", 2, 0);
    int headDim = t.dim("transformer_blocks.0.attn1.norm_q.weight", 1, 0);
    int heads = t.exactQuotient(hidden, headDim, "hidden size / head size (attn1.norm_q)");
    Integer patchSizeT = family.patchSizeT() == null ? null
        : sat.flatMap(SatTrainingConfig::patchSizeT).orElse(family.patchSizeT());
    int patchSize;
    int inChannels;
    boolean patchBias;
    if (patchSizeT == null) {
      List<Long> kernel = t.shape("patch_embed.proj.weight", 4);
      patchSize = Math.toIntExact(kernel.get(2));
      if (!kernel.get(3).equals(kernel.get(2))) {
        throw new ModelInferenceException(
            "transformer: patch_embed.proj.weight has a non-square kernel " + kernel);
      }
      inChannels = Math.toIntExact(kernel.get(1));
      patchBias = t.has("patch_embed.proj.bias");
    } else {
      // a Linear over flattened (t, h, w, channel) patches: its width is in * p * p * pt
      patchSize = sat.flatMap(SatTrainingConfig::patchSize).orElse(ModelFamily.PATCH_SIZE);
      inChannels = t.exactQuotient(t.dim("patch_embed.proj.weight", 2, 1),
          (long) patchSize * patchSize * patchSizeT, "patch_embed.proj.weight width / (p*p*pt)");
      patchBias = family.patchBias();
    }
    int outChannels = t.exactQuotient(t.dim("proj_out.weight", 2, 0),
        (long) patchSize * patchSize * (patchSizeT == null ? 1 : patchSizeT), "proj_out.weight rows / (p*p*pt)");
    Integer ofsEmbedDim = t.has("ofs_embedding.linear_1.weight")
        ? t.dim("ofs_embedding.linear_1.weight", 2, 0) : null;

    Map<String, Object> f = new LinkedHashMap<>();
    f.put("num_layers", t.countIndexed("transformer_blocks."));
    f.put("num_attention_heads", heads);
    f.put("attention_head_dim", headDim);
    f.put("in_channels", inChannels);
    f.put("out_channels", outChannels);
    f.put("time_embed_dim", t.dim("time_embedding.linear_1.weight", 2, 0));
    f.put("text_embed_dim", t.dim("patch_embed.text_proj.weight", 2, 1));
    f.put("ofs_embed_dim", ofsEmbedDim);
    f.put("patch_size", patchSize);
    f.put("patch_size_t", patchSizeT);
    f.put("patch_bias", patchBias);
    f.put("attention_bias", t.has("transformer_blocks.0.attn1.to_q.bias"));
    f.put("norm_elementwise_affine", t.has("transformer_blocks.0.norm1.norm.weight"));
    f.put("use_rotary_positional_embeddings", family.positions().rotary());
    f.put("use_learned_positional_embeddings", family.positions().learned());
    f.put("sample_height", sat.flatMap(SatTrainingConfig::latentHeight).orElse(family.sampleHeight()));
    f.put("sample_width", sat.flatMap(SatTrainingConfig::latentWidth).orElse(family.sampleWidth()));
    f.put("sample_frames", sat.flatMap(SatTrainingConfig::numFrames).orElse(family.sampleFrames()));
    f.put("temporal_compression_ratio",
        sat.flatMap(SatTrainingConfig::timeCompressedRate).orElse(ModelFamily.TEMPORAL_COMPRESSION_RATIO));
    f.put("max_text_seq_length", sat.flatMap(SatTrainingConfig::textLength).orElse(ModelFamily.MAX_TEXT_SEQ_LENGTH));
    // the same in every published model and not visible in the weights
    f.put("activation_fn", "gelu-approximate");
    f.put("timestep_activation_fn", "silu");
    f.put("dropout", 0.0);
    f.put("flip_sin_to_cos", true);
    f.put("freq_shift", 0);
    f.put("norm_eps", 1e-5);
    f.put("spatial_interpolation_scale", 1.875);
    f.put("temporal_interpolation_scale", 1.0);

    sat.ifPresent(s -> compareWithSat(s, f, hidden, warnings));
    if (family.positions().learned()) {
      checkTableLength(t, f, warnings);
    }
    return new Result(SavedConfig.diffusers(CLASS_NAME, f), List.copyOf(warnings));
  }

  /** The tensors win over the YAML; a disagreement usually means the YAML of another run. */
  private static void compareWithSat(SatTrainingConfig sat, Map<String, Object> f, int hidden, List<String> warnings) {
    Map<String, Optional<Integer>> said = new LinkedHashMap<>();
    said.put("num_layers", sat.numLayers());
    said.put("num_attention_heads", sat.numAttentionHeads());
    said.put("in_channels", sat.inChannels());
    said.put("out_channels", sat.outChannels());
    said.put("time_embed_dim", sat.timeEmbedDim());
    said.put("text_embed_dim", sat.textEmbedDim());
    said.put("ofs_embed_dim", sat.ofsEmbedDim());
    said.forEach((key, value) -> value.filter(v -> !v.equals(f.get(key))).ifPresent(v -> warnings.add(
        "the SAT config says " + key + " " + v + " but the tensors give " + f.get(key) + ": the tensors are used")));
    sat.hiddenSize().filter(v -> v != hidden).ifPresent(v -> warnings.add(
        "the SAT config says hidden_size " + v + " but the tensors give " + hidden + ": the tensors are used"));
  }

  /**
   * A learned table holds text tokens + patches of the configured sample size; Diffusers refuses
   * to load one of another length, and the tensors alone cannot tell the sizes apart.
   */
  private static void checkTableLength(TensorShapes t, Map<String, Object> f, List<String> warnings) {
    String key = "patch_embed.pos_embedding";
    if (!t.has(key)) {
      return;
    }
    long rows = t.shape(key, 3).get(1);
    int p = (Integer) f.get("patch_size");
    long patches = (long) ((Integer) f.get("sample_height") / p) * ((Integer) f.get("sample_width") / p)
        * (((Integer) f.get("sample_frames") - 1) / (Integer) f.get("temporal_compression_ratio") + 1);
    long expected = (Integer) f.get("max_text_seq_length") + patches;
    if (rows != expected) {
      warnings.add(key + " has " + rows + " rows but sample " + f.get("sample_height") + "x" + f.get("sample_width")
          + "x" + f.get("sample_frames") + " with " + f.get("max_text_seq_length") + " text tokens needs " + expected
          + ": Diffusers will not load it with this config; pass --sat-config with the training YAML");
    }
  }
}
