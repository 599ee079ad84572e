package org.sat2diffusers.transforms.model;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * What a SAT CogVideoX training YAML says about the model (CogVideo {@code sat/configs/*.yaml}):
 * {@code model.network_config.params} (sizes, the position, patch and LoRA mixins) plus the VAE
 * scale factor and the noise schedule shift. Every value is empty when the YAML does not say.
 *
 * @param patchSize spatial patch size ({@code patch_size: 2}, or the last two of {@code [t, h, w]})
 * @param patchSizeT temporal patch size, present when {@code patch_size} is a list (CogVideoX 1.5)
 * @param textEmbedDim {@code patch_embed_config.params.text_hidden_size}
 * @param textLength {@code pos_embed_config.params.text_length}
 * @param vaeScalingFactor {@code model.scale_factor}
 * @param snrShiftScale {@code shift_scale} of the denoiser's discretization
 */
public record SatTrainingConfig(
    Optional<Integer> numLayers,
    Optional<Integer> hiddenSize,
    Optional<Integer> numAttentionHeads,
    Optional<Integer> inChannels,
    Optional<Integer> outChannels,
    Optional<Integer> timeEmbedDim,
    Optional<Integer> ofsEmbedDim,
    Optional<Integer> textEmbedDim,
    Optional<Integer> patchSize,
    Optional<Integer> patchSizeT,
    Optional<Integer> latentHeight,
    Optional<Integer> latentWidth,
    Optional<Integer> numFrames,
    Optional<Integer> timeCompressedRate,
    Optional<Integer> textLength,
    Optional<PositionEmbedding> positions,
    Optional<Lora> lora,
    Optional<Double> vaeScalingFactor,
    Optional<Double> snrShiftScale) {

  /** SAT lora2's default alpha: the update is scaled by alpha / r. */
  public static final double SAT_DEFAULT_LORA_ALPHA = 1.0;

  /** SAT {@code lora2.LoraMixin} settings: rank {@code r} and {@code lora_alpha} (default 1). */
  public record Lora(int rank, double alpha) {}

  /** Parses YAML text; errors name "SAT config". */
  public static SatTrainingConfig parse(String yamlText) {
    return parse(yamlText, "SAT config");
  }

  /** Parses YAML text; errors name {@code origin} (the file) and the key at fault. */
  public static SatTrainingConfig parse(String yamlText, String origin) {
    Object root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(yamlText);
    } catch (YAMLException e) {
      throw new ModelInferenceException(origin + ": not valid YAML: " + e.getMessage());
    }
    Node top = new Node(origin, "", root);
    Node network = top.child("model").child("network_config");
    if (network.value == null) {
      throw new ModelInferenceException(origin + ": no model.network_config: pass the model YAML"
          + " (e.g. cogvideox_5b_lora.yaml), not only the training arguments");
    }
    Node params = network.child("params");
    Node modules = params.child("modules");
    Node posEmbed = modules.child("pos_embed_config");
    Node loraConfig = modules.child("lora_config");
    Node patch = params.child("patch_size");

    Optional<Integer> patchSize;
    Optional<Integer> patchSizeT;
    if (patch.value instanceof List<?> list) {
      // [t, h, w] as SAT's ImagePatchEmbeddingMixin unpacks it
      if (list.size() != 3 || !list.get(1).equals(list.get(2))) {
        throw new ModelInferenceException(
            origin + ": " + patch.path + " is " + list + ", expected [t, p, p]");
      }
      patchSizeT = Optional.of(patch.child(0).integer());
      patchSize = Optional.of(patch.child(1).integer());
    } else {
      patchSize = patch.optionalInteger();
      patchSizeT = Optional.empty();
    }

    Optional<Lora> lora = loraConfig.value == null
        ? Optional.empty()
        : Optional.of(new Lora(
            loraConfig.child("params").child("r").integer(),
            loraConfig.child("params").child("lora_alpha").optionalDouble().orElse(SAT_DEFAULT_LORA_ALPHA)));

    return new SatTrainingConfig(
        params.child("num_layers").optionalInteger(),
        params.child("hidden_size").optionalInteger(),
        params.child("num_attention_heads").optionalInteger(),
        params.child("in_channels").optionalInteger(),
        params.child("out_channels").optionalInteger(),
        params.child("time_embed_dim").optionalInteger(),
        params.child("ofs_embed_dim").optionalInteger(),
        modules.child("patch_embed_config").child("params").child("text_hidden_size").optionalInteger(),
        patchSize,
        patchSizeT,
        params.child("latent_height").optionalInteger(),
        params.child("latent_width").optionalInteger(),
        params.child("num_frames").optionalInteger(),
        params.child("time_compressed_rate").optionalInteger(),
        posEmbed.child("params").child("text_length").optionalInteger(),
        positions(posEmbed),
        lora,
        top.child("model").child("scale_factor").optionalDouble(),
        top.child("model").child("denoiser_config").child("params").child("discretization_config")
            .child("params").child("shift_scale").optionalDouble());
  }

  private static Optional<PositionEmbedding> positions(Node posEmbed) {
    if (posEmbed.value == null) {
      return Optional.empty();
    }
    String target = posEmbed.child("target").string();
    if (target.endsWith("Basic3DPositionEmbeddingMixin")) {
      return Optional.of(PositionEmbedding.SINCOS);
    }
    if (target.endsWith("Rotary3DPositionEmbeddingMixin")) {
      boolean learned = posEmbed.child("params").child("learnable_pos_embed").optionalBoolean().orElse(false);
      return Optional.of(learned ? PositionEmbedding.ROTARY_AND_LEARNED : PositionEmbedding.ROTARY);
    }
    throw new ModelInferenceException(
        posEmbed.origin + ": " + posEmbed.path + ".target is '" + target
            + "', expected Basic3DPositionEmbeddingMixin or Rotary3DPositionEmbeddingMixin");
  }

  /** A value found at a dotted path of the YAML tree (null when absent), typed on demand. */
  private record Node(String origin, String path, Object value) {
    Node child(Object key) {
      String childPath = path.isEmpty() ? key.toString() : path + "." + key;
      Object v = null;
      if (value instanceof Map<?, ?> map) {
        v = map.get(key);
      } else if (value instanceof List<?> list && key instanceof Integer i && i < list.size()) {
        v = list.get(i);
      }
      return new Node(origin, childPath, v);
    }

    Optional<Integer> optionalInteger() {
      if (value == null) {
        return Optional.empty();
      }
      if (value instanceof Integer || value instanceof Long) {
        return Optional.of(Math.toIntExact(((Number) value).longValue()));
      }
      throw wrongType("an integer");
    }

    int integer() {
      return optionalInteger().orElseThrow(() -> missing());
    }

    Optional<Double> optionalDouble() {
      if (value == null) {
        return Optional.empty();
      }
      if (value instanceof Number n) {
        return Optional.of(n.doubleValue());
      }
      throw wrongType("a number");
    }

    Optional<Boolean> optionalBoolean() {
      if (value == null) {
        return Optional.empty();
      }
      if (value instanceof Boolean b) {
        return Optional.of(b);
      }
      throw wrongType("true or false");
    }

    String string() {
      if (value instanceof String s) {
        return s;
      }
      throw value == null ? missing() : wrongType("a string");
    }

    private ModelInferenceException missing() {
      return new ModelInferenceException(origin + ": " + path + " is missing");
    }

    private ModelInferenceException wrongType(String expected) {
      return new ModelInferenceException(origin + ": " + path + " is '" + value + "', expected " + expected);
    }
  }
}
