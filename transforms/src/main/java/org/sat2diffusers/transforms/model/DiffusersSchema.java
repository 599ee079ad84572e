package org.sat2diffusers.transforms.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.sat2diffusers.transforms.records.Component;

/**
 * The state dict (key and shape of every saved tensor) that the Diffusers / transformers model of a
 * config holds: CogVideoXTransformer3DModel, AutoencoderKLCogVideoX and T5EncoderModel, as their
 * constructors build them. Checked against a conversion before anything is written.
 */
public final class DiffusersSchema {
  /** A dimension the config does not fix (the length of a learned position table, see {@link #transformer}). */
  public static final long ANY = -1;

  private DiffusersSchema() {}

  /** The expected tensors of {@code component} built from {@code config} (its config.json values). */
  public static Map<String, List<Long>> expected(Component component, Map<String, Object> config) {
    return switch (component) {
      case TRANSFORMER -> transformer(config);
      case VAE -> vae(config);
      case TEXT_ENCODER -> textEncoder(config);
    };
  }

  /**
   * CogVideoXTransformer3DModel. The learned position table (5B-I2V) is saved; its length is text
   * length + patches of the configured sample size, which a fine-tune at another size changes
   * without the config telling: it is left {@link #ANY}.
   */
  public static Map<String, List<Long>> transformer(Map<String, Object> config) {
    Values c = new Values("transformer", config);
    long inner = (long) c.integer("num_attention_heads") * c.integer("attention_head_dim");
    long headDim = c.integer("attention_head_dim");
    long t = c.integer("time_embed_dim");
    long p = c.integer("patch_size");
    Integer pt = c.nullableInteger("patch_size_t");
    Integer ofs = c.nullableInteger("ofs_embed_dim");
    boolean affine = c.bool("norm_elementwise_affine");
    boolean attentionBias = c.bool("attention_bias");
    long patchVolume = p * p * (pt == null ? 1 : pt);

    Schema s = new Schema();
    if (pt == null) {
      s.put("patch_embed.proj.weight", inner, c.integer("in_channels"), p, p);
    } else {
      s.put("patch_embed.proj.weight", inner, c.integer("in_channels") * patchVolume);
    }
    // a Linear patch embedding (1.5) always has a bias; patch_bias only applies to the Conv2d
    if (pt != null || c.bool("patch_bias")) {
      s.put("patch_embed.proj.bias", inner);
    }
    s.linear("patch_embed.text_proj", inner, c.integer("text_embed_dim"), true);
    if (c.bool("use_learned_positional_embeddings")) {
      s.put("patch_embed.pos_embedding", 1, ANY, inner);
    }
    s.linear("time_embedding.linear_1", t, inner, true);
    s.linear("time_embedding.linear_2", t, t, true);
    if (ofs != null && ofs != 0) {
      s.linear("ofs_embedding.linear_1", ofs, ofs, true);
      s.linear("ofs_embedding.linear_2", ofs, ofs, true);
    }
    for (int i = 0; i < c.integer("num_layers"); i++) {
      String b = "transformer_blocks." + i + ".";
      s.linear(b + "norm1.linear", 6 * inner, t, true);
      s.layerNorm(b + "norm1.norm", inner, affine);
      s.layerNorm(b + "attn1.norm_q", headDim, true);
      s.layerNorm(b + "attn1.norm_k", headDim, true);
      for (String proj : List.of("to_q", "to_k", "to_v")) {
        s.linear(b + "attn1." + proj, inner, inner, attentionBias);
      }
      s.linear(b + "attn1.to_out.0", inner, inner, true);
      s.linear(b + "norm2.linear", 6 * inner, t, true);
      s.layerNorm(b + "norm2.norm", inner, affine);
      s.linear(b + "ff.net.0.proj", 4 * inner, inner, true);
      s.linear(b + "ff.net.2", inner, 4 * inner, true);
    }
    s.layerNorm("norm_final", inner, affine);
    s.linear("norm_out.linear", 2 * inner, t, true);
    s.layerNorm("norm_out.norm", inner, affine);
    s.linear("proj_out", c.integer("out_channels") * patchVolume, inner, true);
    return s.shapes;
  }

  /** AutoencoderKLCogVideoX: encoder, decoder (spatially normed on the latents), optional quant convs. */
  public static Map<String, List<Long>> vae(Map<String, Object> config) {
    Values c = new Values("vae", config);
    List<Integer> channels = c.integerList("block_out_channels");
    int n = channels.size();
    long latent = c.integer("latent_channels");
    long outChannels = c.integer("out_channels");
    int layers = c.integer("layers_per_block");

    Schema s = new Schema();
    s.conv3d("encoder.conv_in", channels.get(0), c.integer("in_channels"), 3);
    long out = channels.get(0);
    for (int i = 0; i < n; i++) {
      long in = out;
      out = channels.get(i);
      String block = "encoder.down_blocks." + i + ".";
      for (int j = 0; j < layers; j++) {
        s.resnet(block + "resnets." + j + ".", j == 0 ? in : out, out, null);
      }
      if (i < n - 1) {
        s.conv2d(block + "downsamplers.0.conv", out, out);
      }
    }
    long last = channels.get(n - 1);
    for (int j = 0; j < 2; j++) {
      s.resnet("encoder.mid_block.resnets." + j + ".", last, last, null);
    }
    s.layerNorm("encoder.norm_out", last, true);
    s.conv3d("encoder.conv_out", 2 * latent, last, 3);

    List<Integer> reversed = new ArrayList<>(channels);
    Collections.reverse(reversed);
    s.conv3d("decoder.conv_in", reversed.get(0), latent, 3);
    for (int j = 0; j < 2; j++) {
      s.resnet("decoder.mid_block.resnets." + j + ".", reversed.get(0), reversed.get(0), latent);
    }
    out = reversed.get(0);
    for (int i = 0; i < n; i++) {
      long in = out;
      out = reversed.get(i);
      String block = "decoder.up_blocks." + i + ".";
      for (int j = 0; j < layers + 1; j++) {
        s.resnet(block + "resnets." + j + ".", j == 0 ? in : out, out, latent);
      }
      if (i < n - 1) {
        s.conv2d(block + "upsamplers.0.conv", out, out);
      }
    }
    s.spatialNorm("decoder.norm_out.", reversed.get(n - 1), latent);
    s.conv3d("decoder.conv_out", outChannels, reversed.get(n - 1), 3);
    // Diffusers sizes both quant convs by out_channels (the image channels), not the latents
    if (c.bool("use_quant_conv")) {
      s.put("quant_conv.weight", 2 * outChannels, 2 * outChannels, 1, 1, 1);
      s.put("quant_conv.bias", 2 * outChannels);
    }
    if (c.bool("use_post_quant_conv")) {
      s.put("post_quant_conv.weight", outChannels, outChannels, 1, 1, 1);
      s.put("post_quant_conv.bias", outChannels);
    }
    return s.shapes;
  }

  /**
   * T5EncoderModel as safetensors stores it: {@code encoder.embed_tokens.weight} is the tied alias
   * of {@code shared.weight} and is not saved.
   */
  public static Map<String, List<Long>> textEncoder(Map<String, Object> config) {
    Values c = new Values("text_encoder", config);
    long d = c.integer("d_model");
    long inner = (long) c.integer("num_heads") * c.integer("d_kv");
    long ff = c.integer("d_ff");
    boolean gated = c.string("feed_forward_proj").startsWith("gated-");

    Schema s = new Schema();
    s.put("shared.weight", c.integer("vocab_size"), d);
    for (int i = 0; i < c.integer("num_layers"); i++) {
      String b = "encoder.block." + i + ".layer.";
      for (String proj : List.of("q", "k", "v")) {
        s.put(b + "0.SelfAttention." + proj + ".weight", inner, d);
      }
      s.put(b + "0.SelfAttention.o.weight", d, inner);
      if (i == 0) {
        // only the first block owns the relative position buckets; the others reuse them
        s.put(b + "0.SelfAttention.relative_attention_bias.weight",
            c.integer("relative_attention_num_buckets"), c.integer("num_heads"));
      }
      s.put(b + "0.layer_norm.weight", d);
      for (String wi : gated ? List.of("wi_0", "wi_1") : List.of("wi")) {
        s.put(b + "1.DenseReluDense." + wi + ".weight", ff, d);
      }
      s.put(b + "1.DenseReluDense.wo.weight", d, ff);
      s.put(b + "1.layer_norm.weight", d);
    }
    s.put("encoder.final_layer_norm.weight", d);
    return s.shapes;
  }

  /**
   * Compares a conversion's tensors with the schema: missing keys, unexpected keys, then shape
   * mismatches, one line each; empty when they agree.
   */
  public static List<String> check(Map<String, List<Long>> expected, Map<String, List<Long>> actual) {
    List<String> problems = new ArrayList<>();
    expected.forEach((key, shape) -> {
      if (!actual.containsKey(key)) {
        problems.add("missing " + key + " " + show(shape));
      }
    });
    actual.forEach((key, shape) -> {
      if (!expected.containsKey(key)) {
        problems.add("unexpected " + key + " " + show(shape));
      }
    });
    expected.forEach((key, shape) -> {
      List<Long> got = actual.get(key);
      if (got != null && !fits(shape, got)) {
        problems.add("shape of " + key + " is " + got + ", the model holds " + show(shape));
      }
    });
    return problems;
  }

  private static boolean fits(List<Long> expected, List<Long> actual) {
    if (expected.size() != actual.size()) {
      return false;
    }
    for (int i = 0; i < expected.size(); i++) {
      if (expected.get(i) != ANY && !expected.get(i).equals(actual.get(i))) {
        return false;
      }
    }
    return true;
  }

  private static String show(List<Long> shape) {
    return shape.stream().map(d -> d == ANY ? "*" : d.toString()).collect(Collectors.joining(", ", "[", "]"));
  }

  /** The expected state dict being built, with the few module shapes the models are made of. */
  private static final class Schema {
    final Map<String, List<Long>> shapes = new LinkedHashMap<>();

    void put(String key, long... dims) {
      List<Long> shape = new ArrayList<>(dims.length);
      for (long d : dims) {
        shape.add(d);
      }
      shapes.put(key, List.copyOf(shape));
    }

    void linear(String prefix, long out, long in, boolean bias) {
      put(prefix + ".weight", out, in);
      if (bias) {
        put(prefix + ".bias", out);
      }
    }

    /** LayerNorm or GroupNorm: weight and bias only when affine. */
    void layerNorm(String prefix, long channels, boolean affine) {
      if (affine) {
        put(prefix + ".weight", channels);
        put(prefix + ".bias", channels);
      }
    }

    /** CogVideoXCausalConv3d (a Conv3d under {@code .conv}) with a cubic kernel. */
    void conv3d(String prefix, long out, long in, long k) {
      put(prefix + ".conv.weight", out, in, k, k, k);
      put(prefix + ".conv.bias", out);
    }

    /** The 2-D 3x3 convolution of the down- and upsamplers. */
    void conv2d(String prefix, long out, long in) {
      put(prefix + ".weight", out, in, 3, 3);
      put(prefix + ".bias", out);
    }

    /** CogVideoXSpatialNorm3D: a GroupNorm modulated by 1x1x1 convolutions of the latents. */
    void spatialNorm(String prefix, long channels, long latent) {
      layerNorm(prefix + "norm_layer", channels, true);
      conv3d(prefix + "conv_y", channels, latent, 1);
      conv3d(prefix + "conv_b", channels, latent, 1);
    }

    /** CogVideoXResnetBlock3D without time embedding; {@code latent} non-null in the decoder. */
    void resnet(String prefix, long in, long out, Long latent) {
      if (latent == null) {
        layerNorm(prefix + "norm1", in, true);
        layerNorm(prefix + "norm2", out, true);
      } else {
        spatialNorm(prefix + "norm1.", in, latent);
        spatialNorm(prefix + "norm2.", out, latent);
      }
      conv3d(prefix + "conv1", out, in, 3);
      conv3d(prefix + "conv2", out, out, 3);
      if (in != out) {
        put(prefix + "conv_shortcut.weight", out, in, 1, 1, 1);
        put(prefix + "conv_shortcut.bias", out);
      }
    }
  }

  /** Typed reads of config.json values, naming the component and key at fault. */
  private record Values(String component, Map<String, Object> config) {
    Object get(String key) {
      if (!config.containsKey(key)) {
        throw new IllegalArgumentException(component + " config has no '" + key + "'");
      }
      return config.get(key);
    }

    Integer nullableInteger(String key) {
      Object v = get(key);
      if (v == null) {
        return null;
      }
      if (v instanceof Integer || v instanceof Long) {
        return Math.toIntExact(((Number) v).longValue());
      }
      throw wrong(key, v, "an integer");
    }

    int integer(String key) {
      Integer v = nullableInteger(key);
      if (v == null) {
        throw wrong(key, null, "an integer");
      }
      return v;
    }

    boolean bool(String key) {
      if (get(key) instanceof Boolean b) {
        return b;
      }
      throw wrong(key, get(key), "true or false");
    }

    String string(String key) {
      if (get(key) instanceof String s) {
        return s;
      }
      throw wrong(key, get(key), "a string");
    }

    List<Integer> integerList(String key) {
      if (get(key) instanceof List<?> list && !list.isEmpty()
          && list.stream().allMatch(x -> x instanceof Integer)) {
        return list.stream().map(x -> (Integer) x).toList();
      }
      throw wrong(key, get(key), "a non-empty list of integers");
    }

    private IllegalArgumentException wrong(String key, Object value, String expected) {
      return new IllegalArgumentException(component + " config: '" + key + "' is " + value + ", expected " + expected);
    }
  }
}
