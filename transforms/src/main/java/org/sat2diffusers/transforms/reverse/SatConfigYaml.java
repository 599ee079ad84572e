package org.sat2diffusers.transforms.reverse;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.stream.Collectors;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.model.PositionEmbedding;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.SatTensor;

/**
 * The model part of a SAT CogVideoX training YAML for a converted folder ({@code model:} with its
 * {@code network_config} sizes and mixins, the VAE scale factor, the noise schedule's shift): the
 * fields {@code SatTrainingConfig} reads, so {@code convert --sat-config} of the SAT run gives the
 * Diffusers configs back. A fragment: SAT's data, training and sampling sections are the user's.
 */
final class SatConfigYaml {
  private SatConfigYaml() {}

  static String render(ModelFamily family, List<SatTensor> transformer, DiffusersModel model, Optional<Double> loraAlpha,
      Integer loraRank) {
    Map<String, Object> c = model.config(Component.TRANSFORMER);
    int hidden = transformer.stream().filter(t -> t.key().equals("mixins.patch_embed.text_proj.weight")).findFirst()
        .map(t -> Math.toIntExact(t.shape().get(0))).orElseThrow();
    int layers = (int) transformer.stream().filter(t -> t.key().matches("transformer\\.layers\\.\\d+\\.input_layernorm\\.weight"))
        .count();
    Integer patchT = DiffusersConfigFields.optionalInteger(c, "patch_size_t");
    int patch = or(c, "patch_size", ModelFamily.PATCH_SIZE);
    Integer ofs = DiffusersConfigFields.optionalInteger(c, "ofs_embed_dim");
    int textLength = or(c, "max_text_seq_length", ModelFamily.MAX_TEXT_SEQ_LENGTH);
    double scaleFactor = number(model.config(Component.VAE), "scaling_factor", family.vaeScalingFactor());
    double shift = number(model.schedulerConfig(), "snr_shift_scale", family.snrShiftScale());

    StringBuilder y = new StringBuilder();
    y.append("# SAT model config for ").append(family.displayName()).append(", written by sat2diffusers to-sat.\n");
    y.append("# A fragment: merge it with the data, training and sampling sections of your SAT YAML.\n");
    y.append("model:\n");
    y.append("  scale_factor: ").append(scaleFactor).append('\n');
    y.append("  network_config:\n");
    y.append("    target: dit_video_concat.DiffusionTransformer\n");
    y.append("    params:\n");
    y.append("      time_embed_dim: ").append(DiffusersConfigFields.integer(c, "time_embed_dim")).append('\n');
    y.append("      elementwise_affine: True\n");
    y.append("      num_frames: ").append(or(c, "sample_frames", family.sampleFrames())).append('\n');
    y.append("      time_compressed_rate: ").append(or(c, "temporal_compression_ratio",
        ModelFamily.TEMPORAL_COMPRESSION_RATIO)).append('\n');
    y.append("      latent_width: ").append(or(c, "sample_width", family.sampleWidth())).append('\n');
    y.append("      latent_height: ").append(or(c, "sample_height", family.sampleHeight())).append('\n');
    y.append("      num_layers: ").append(layers).append('\n');
    y.append("      patch_size: ").append(patchT == null ? Integer.toString(patch)
        : "[" + patchT + ", " + patch + ", " + patch + "]").append('\n');
    y.append("      in_channels: ").append(DiffusersConfigFields.integer(c, "in_channels")).append('\n');
    y.append("      out_channels: ").append(DiffusersConfigFields.integer(c, "out_channels")).append('\n');
    y.append("      hidden_size: ").append(hidden).append('\n');
    y.append("      num_attention_heads: ").append(DiffusersConfigFields.integer(c, "num_attention_heads")).append('\n');
    if (ofs != null) {
      y.append("      ofs_embed_dim: ").append(ofs).append('\n');
    }
    y.append("      modules:\n");
    y.append("        pos_embed_config:\n");
    if (family.positions() == PositionEmbedding.SINCOS) {
      double spatial = DiffusersConfigFields.number(c, "spatial_interpolation_scale");
      y.append("          target: dit_video_concat.Basic3DPositionEmbeddingMixin\n");
      y.append("          params:\n");
      y.append("            text_length: ").append(textLength).append('\n');
      y.append("            height_interpolation: ").append(spatial).append('\n');
      y.append("            width_interpolation: ").append(spatial).append('\n');
      y.append("            time_interpolation: ").append(DiffusersConfigFields.number(c, "temporal_interpolation_scale"))
          .append('\n');
    } else {
      y.append("          target: dit_video_concat.Rotary3DPositionEmbeddingMixin\n");
      y.append("          params:\n");
      y.append("            hidden_size_head: ").append(DiffusersConfigFields.integer(c, "attention_head_dim")).append('\n');
      y.append("            text_length: ").append(textLength).append('\n');
      if (family.positions().learned()) {
        y.append("            learnable_pos_embed: True\n");
      }
    }
    if (loraRank != null) {
      y.append("        lora_config:\n");
      y.append("          target: sat.model.finetune.lora2.LoraMixin\n");
      y.append("          params:\n");
      y.append("            r: ").append(loraRank).append('\n');
      y.append("            lora_alpha: ").append(loraAlpha.orElseThrow()).append('\n');
      List<Integer> adapted = transformer.stream().map(t -> Lora2Restore.WRAPPED_LAYER.matcher(t.key()))
          .filter(Matcher::matches).map(m -> Integer.parseInt(m.group(1))).distinct().sorted().toList();
      if (adapted.size() != layers) {
        y.append("            layer_range: [").append(adapted.stream().map(String::valueOf)
            .collect(Collectors.joining(", "))).append("]\n");
      }
    }
    y.append("        patch_embed_config:\n");
    y.append("          target: dit_video_concat.ImagePatchEmbeddingMixin\n");
    y.append("          params:\n");
    y.append("            text_hidden_size: ").append(DiffusersConfigFields.integer(c, "text_embed_dim")).append('\n');
    y.append("        adaln_layer_config:\n");
    y.append("          target: dit_video_concat.AdaLNMixin\n");
    y.append("          params:\n");
    y.append("            qk_ln: True\n");
    y.append("        final_layer_config:\n");
    y.append("          target: dit_video_concat.FinalLayerMixin\n");
    y.append("  denoiser_config:\n");
    y.append("    target: sgm.modules.diffusionmodules.denoiser.DiscreteDenoiser\n");
    y.append("    params:\n");
    y.append("      num_idx: 1000\n");
    y.append("      discretization_config:\n");
    y.append("        target: sgm.modules.diffusionmodules.discretizer.ZeroSNRDDPMDiscretization\n");
    y.append("        params:\n");
    y.append("          shift_scale: ").append(shift).append('\n');
    return y.toString();
  }

  private static int or(Map<String, Object> config, String key, int fallback) {
    Integer v = DiffusersConfigFields.optionalInteger(config, key);
    return v == null ? fallback : v;
  }

  private static double number(Map<String, Object> config, String key, double fallback) {
    return config.get(key) instanceof Number n ? n.doubleValue() : fallback;
  }
}
