package org.sat2diffusers.transforms.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.model.SatTrainingConfig;
import org.sat2diffusers.transforms.model.TensorShapes;

/**
 * The {@code vae/config.json} of an AutoencoderKLCogVideoX: channels and depth from the tensors
 * (Diffusers names), scaling from the SAT YAML or the family, the rest as published (every
 * CogVideoX VAE is the same model; the published configs keep the class defaults).
 */
public final class VaeConfigInference {
  static final String CLASS_NAME = "AutoencoderKLCogVideoX";

  private VaeConfigInference() {}

  public static Map<String, Object> infer(
      Map<String, List<Long>> shapes, ModelFamily family, Optional<SatTrainingConfig> sat) {
    TensorShapes t = new TensorShapes("vae", shapes);
    int blocks = t.countIndexed("encoder.down_blocks.");
    List<Integer> channels = new ArrayList<>();
    for (int i = 0; i < blocks; i++) {
      channels.add(t.dim("encoder.down_blocks." + i + ".resnets.0.conv1.conv.weight", 5, 0));
    }

    Map<String, Object> f = new LinkedHashMap<>();
    f.put("block_out_channels", List.copyOf(channels));
    f.put("down_block_types", Collections.nCopies(blocks, "CogVideoXDownBlock3D"));
    f.put("up_block_types", Collections.nCopies(blocks, "CogVideoXUpBlock3D"));
    f.put("layers_per_block", t.countIndexed("encoder.down_blocks.0.resnets."));
    f.put("in_channels", t.dim("encoder.conv_in.conv.weight", 5, 1));
    f.put("out_channels", t.dim("decoder.conv_out.conv.weight", 5, 0));
    f.put("latent_channels", t.dim("decoder.conv_in.conv.weight", 5, 1));
    f.put("use_quant_conv", t.has("quant_conv.weight"));
    f.put("use_post_quant_conv", t.has("post_quant_conv.weight"));
    f.put("scaling_factor", sat.flatMap(SatTrainingConfig::vaeScalingFactor).orElse(family.vaeScalingFactor()));
    f.put("invert_scale_latents", family.invertScaleLatents());
    f.put("act_fn", "silu");
    f.put("force_upcast", true);
    f.put("latents_mean", null);
    f.put("latents_std", null);
    f.put("shift_factor", null);
    f.put("norm_eps", 1e-6);
    f.put("norm_num_groups", 32);
    f.put("sample_height", 480);
    f.put("sample_width", 720);
    f.put("temporal_compression_ratio", ModelFamily.TEMPORAL_COMPRESSION_RATIO);
    return SavedConfig.diffusers(CLASS_NAME, f);
  }
}
