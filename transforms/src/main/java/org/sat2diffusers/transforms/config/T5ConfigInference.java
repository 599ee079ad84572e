package org.sat2diffusers.transforms.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.transforms.model.TensorShapes;

/**
 * The {@code text_encoder/config.json} of a transformers T5EncoderModel: sizes from the tensors
 * (transformers names, as in the {@code text_encoder} component), the rest as in the published
 * CogVideoX text encoder (google/t5-v1_1-xxl).
 */
public final class T5ConfigInference {
  private static final String BLOCK0 = "encoder.block.0.layer.";

  private T5ConfigInference() {}

  /** {@code dtype} is the dtype the weights are written in (transformers records it as torch_dtype). */
  public static Map<String, Object> infer(Map<String, List<Long>> shapes, Dtype dtype) {
    TensorShapes t = new TensorShapes("text_encoder", shapes);
    String bias = BLOCK0 + "0.SelfAttention.relative_attention_bias.weight";
    int heads = t.dim(bias, 2, 1);
    int attentionWidth = t.dim(BLOCK0 + "0.SelfAttention.q.weight", 2, 0);
    boolean gated = t.has(BLOCK0 + "1.DenseReluDense.wi_0.weight");
    int layers = t.countIndexed("encoder.block.");

    Map<String, Object> f = new LinkedHashMap<>();
    f.put("architectures", List.of("T5EncoderModel"));
    f.put("model_type", "t5");
    f.put("vocab_size", t.dim("shared.weight", 2, 0));
    f.put("d_model", t.dim("shared.weight", 2, 1));
    f.put("num_heads", heads);
    f.put("d_kv", t.exactQuotient(attentionWidth, heads, "q.weight rows / heads (relative_attention_bias columns)"));
    f.put("d_ff", t.dim(BLOCK0 + "1.DenseReluDense." + (gated ? "wi_0" : "wi") + ".weight", 2, 0));
    f.put("num_layers", layers);
    f.put("num_decoder_layers", layers);
    f.put("relative_attention_num_buckets", t.dim(bias, 2, 0));
    // transformers derives dense_act_fn and is_gated_act from feed_forward_proj and saves all three
    f.put("feed_forward_proj", gated ? "gated-gelu" : "relu");
    f.put("dense_act_fn", gated ? "gelu_new" : "relu");
    f.put("is_gated_act", gated);
    f.put("relative_attention_max_distance", 128);
    f.put("classifier_dropout", 0.0);
    f.put("dropout_rate", 0.1);
    f.put("initializer_factor", 1.0);
    f.put("layer_norm_epsilon", 1e-6);
    f.put("decoder_start_token_id", 0);
    f.put("eos_token_id", 1);
    f.put("pad_token_id", 0);
    f.put("is_encoder_decoder", true);
    f.put("output_past", true);
    f.put("tie_word_embeddings", false);
    f.put("use_cache", true);
    f.put("torch_dtype", torchDtype(dtype));
    f.put("transformers_version", SavedConfig.TRANSFORMERS_VERSION);
    return SavedConfig.sorted(f);
  }

  private static String torchDtype(Dtype dtype) {
    return switch (dtype) {
      case F32 -> "float32";
      case F16 -> "float16";
      case BF16 -> "bfloat16";
      default -> throw new IllegalArgumentException(
          "text_encoder: weights of dtype " + dtype + " are not a T5 model's");
    };
  }
}
