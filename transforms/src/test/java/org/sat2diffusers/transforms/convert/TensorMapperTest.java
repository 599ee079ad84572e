package org.sat2diffusers.transforms.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sat2diffusers.transforms.records.TestTensors.source;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.Disposition;
import org.sat2diffusers.transforms.records.OutputTensor;
import org.sat2diffusers.transforms.records.SourceTensor;
import org.sat2diffusers.transforms.records.TensorMapping;
import org.sat2diffusers.transforms.records.Disposition.Fate;

/** The map/merge step alone: routing, LoRA folding, rules and dtypes, from tensor records. */
class TensorMapperTest {
  private static final String T = "model.diffusion_model.";

  @Test
  void modelDtypeCastsTransformerAndTextEncoderButNotTheVaeNorIntegers() {
    TensorMapping plan = TensorMapper.map(List.of(
            source("f", T + "time_embed.0.weight", Dtype.F16, 2, 2),
            source("f", T + "step", Dtype.I64, 1),
            source("f", "first_stage_model.encoder.conv_in.conv.bias", Dtype.F32, 2),
            source("f", "conditioner.embedders.0.transformer.encoder.final_layer_norm.weight", Dtype.F32, 2)),
        1.0, Map.of(Component.TRANSFORMER, Dtype.BF16, Component.TEXT_ENCODER, Dtype.BF16));
    assertEquals(List.of(Dtype.BF16, Dtype.I64), plan.outputs(Component.TRANSFORMER).stream().map(OutputTensor::dtype).toList());
    assertEquals(Dtype.F16, plan.outputs(Component.TRANSFORMER).get(0).sourceDtype());
    assertEquals(Dtype.F32, plan.outputs(Component.VAE).get(0).dtype());
    assertEquals(Dtype.BF16, plan.outputs(Component.TEXT_ENCODER).get(0).dtype());
  }

  @Test
  void thePositionTableIsMappedAndDropOutputTakesItAwayOnceTheFamilyIsKnown() {
    List<SourceTensor> sources = List.of(
        source("f", T + "mixins.pos_embed.pos_embedding", Dtype.F16, 1, 4, 8),
        source("f", T + "mixins.patch_embed.proj.bias", Dtype.F16, 8));
    // the mapper cannot tell a sincos table from a learned one: the planner drops it after detection
    TensorMapping kept = TensorMapper.map(sources, 1.0, Map.of());
    assertEquals(List.of("patch_embed.pos_embedding", "patch_embed.proj.bias"),
        kept.outputs(Component.TRANSFORMER).stream().map(OutputTensor::name).toList());

    TensorMapping dropped = kept.dropOutput(Component.TRANSFORMER, "patch_embed.pos_embedding", "drop: sincos table");
    assertEquals(List.of("patch_embed.proj.bias"), dropped.outputs(Component.TRANSFORMER).stream().map(OutputTensor::name).toList());
    assertEquals(new Disposition(T + "mixins.pos_embed.pos_embedding", Fate.DROPPED, null, List.of(), "drop: sincos table"),
        dropped.dispositions().get(0));
    assertEquals(kept.dispositions().get(1), dropped.dispositions().get(1));
    assertThrows(IllegalArgumentException.class, () -> dropped.dropOutput(Component.TRANSFORMER, "nope", "x"));
  }

  @Test
  void twoSourceKeysForOneOutputIsAnError() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TensorMapper.map(List.of(
            source("f", T + "transformer.layers.0.attention.dense.weight", Dtype.F16, 2, 2),
            source("f", T + "transformer.layers.0.attention.to_out.0.weight", Dtype.F16, 2, 2)),
        1.0, Map.of()));
    assertTrue(e.getMessage().contains("transformer_blocks.0.attn1.to_out.0.weight"), e.getMessage());
  }

  @Test
  void loraMatricesAreMergedIntoTheSplitOutputs() {
    String m = T + "transformer.layers.0.attention.query_key_value";
    TensorMapping plan = TensorMapper.map(List.of(
            source("f", m + ".original.weight", Dtype.BF16, 6, 4),
            source("f", m + ".matrix_A.0", Dtype.BF16, 1, 4), source("f", m + ".matrix_A.1", Dtype.BF16, 1, 4),
            source("f", m + ".matrix_A.2", Dtype.BF16, 1, 4), source("f", m + ".matrix_B.0", Dtype.BF16, 2, 1),
            source("f", m + ".matrix_B.1", Dtype.BF16, 2, 1), source("f", m + ".matrix_B.2", Dtype.BF16, 2, 1)),
        2.0, Map.of());
    List<OutputTensor> out = plan.outputs(Component.TRANSFORMER);
    assertEquals(3, out.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(1, out.get(i).lora().parts());
      assertEquals(2f, out.get(i).lora().scale());
    }
    assertEquals(Fate.SPLIT, plan.dispositions().get(0).fate());
    assertEquals(Fate.LORA_MERGED, plan.dispositions().get(4).fate());
    assertEquals(List.of("transformer_blocks.0.attn1.to_q.weight", "transformer_blocks.0.attn1.to_k.weight",
        "transformer_blocks.0.attn1.to_v.weight"), plan.dispositions().get(4).outputs());
  }

  @Test
  void aStridedViewFailsOnlyWhenItWouldBeWritten() {
    TensorRecord transposed = new TensorRecord(T + "freqs_sin", Dtype.F32, List.of(2L, 3L), List.of(1L, 2L), "s", 0, 64, 24, List.of());
    TensorMapping plan = TensorMapper.map(List.of(new SourceTensor("f", transposed)), 1.0, Map.of());
    assertEquals(Fate.DROPPED, plan.dispositions().get(0).fate());

    TensorRecord kept = new TensorRecord(T + "time_embed.0.weight", Dtype.F32, List.of(2L, 3L), List.of(1L, 2L), "s", 0, 64, 24, List.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TensorMapper.map(List.of(new SourceTensor("ckpt.pt", kept)), 1.0, Map.of()));
    assertTrue(e.getMessage().startsWith("ckpt.pt: tensor '" + T + "time_embed.0.weight' is a strided view"), e.getMessage());
  }
}
