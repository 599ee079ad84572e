package org.sat2diffusers.transforms.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.sat2diffusers.transforms.records.TestTensors.source;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.transforms.records.SourceTensor;

class ComponentRouterTest {
  @Test
  void routesByPrefixAndStripsIt() {
    List<RoutedTensor> routed = ComponentRouter.route(List.of(
        source("f", "model.diffusion_model.time_embed.0.weight", Dtype.F16, 2),
        source("f", "first_stage_model.encoder.conv_in.conv.bias", Dtype.F32, 2),
        source("f", "conditioner.embedders.0.transformer.shared.weight", Dtype.BF16, 2),
        source("f", "conditioner.embedders.1.transformer.shared.weight", Dtype.BF16, 2),
        source("f", "encoder.conv_in.conv.bias", Dtype.F32, 2)));
    assertEquals(List.of(
            "TRANSFORMER time_embed.0.weight", "VAE encoder.conv_in.conv.bias", "TEXT_ENCODER shared.weight",
            "dropped: " + ComponentRouter.UNKNOWN_PREFIX, "dropped: " + ComponentRouter.UNKNOWN_PREFIX),
        describe(routed));
  }

  @Test
  void aFileOfEncoderDecoderAndLossKeysIsABareVae() {
    List<SourceTensor> vaeFile = List.of(
        source("vae.pt", "encoder.conv_in.conv.weight", Dtype.F32, 2),
        source("vae.pt", "decoder.conv_out.conv.bias", Dtype.F32, 2),
        source("vae.pt", "loss.logvar", Dtype.F32, 1));
    SourceTensor transformer = source("t.pt", "model.diffusion_model.mixins.patch_embed.proj.bias", Dtype.BF16, 2);
    List<RoutedTensor> routed = ComponentRouter.route(List.of(transformer, vaeFile.get(0), vaeFile.get(1), vaeFile.get(2)));
    assertEquals(List.of(
            "TRANSFORMER mixins.patch_embed.proj.bias", "VAE encoder.conv_in.conv.weight", "VAE decoder.conv_out.conv.bias",
            "VAE loss.logvar"),
        describe(routed));
  }

  private static List<String> describe(List<RoutedTensor> routed) {
    return routed.stream()
        .map(r -> r.routed() ? r.component() + " " + r.localKey() : "dropped: " + r.dropReason())
        .toList();
  }
}
