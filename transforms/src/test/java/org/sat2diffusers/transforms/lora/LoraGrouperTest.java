package org.sat2diffusers.transforms.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sat2diffusers.transforms.records.TestTensors.source;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.transforms.records.ComponentTensor;
import org.sat2diffusers.transforms.records.LoraGroup;
import org.sat2diffusers.transforms.records.SourceTensor;

class LoraGrouperTest {
  private static final String M = "transformer.layers.0.attention.query_key_value";

  @Test
  void foldsAModuleIntoWeightAndBias() {
    Map<String, SourceTensor> keyed = module(3, 2, 4, 6);
    LoraGrouper.Result result = LoraGrouper.group(keyed, 1.0);
    assertEquals(List.of("before", M + ".weight", M + ".bias"), result.tensors().stream().map(ComponentTensor::key).toList());
    ComponentTensor merged = result.tensors().get(1);
    assertEquals(2, merged.lora().rank());
    assertEquals(0.5f, merged.lora().scale());
    assertEquals(List.of(List.of(keyed.get(M + ".matrix_A.0").byteRange()), List.of(keyed.get(M + ".matrix_A.1").byteRange()),
        List.of(keyed.get(M + ".matrix_A.2").byteRange())), merged.lora().a());
    LoraGroup group = result.groups().get(0);
    assertEquals("model.diffusion_model." + M, group.module());
    assertEquals(3, group.parts());
    assertEquals(8, group.sourceKeys().size());
  }

  @Test
  void namesTheModuleWhenAMatrixIsMissing() {
    Map<String, SourceTensor> keyed = module(3, 2, 4, 6);
    keyed.remove(M + ".matrix_B.2");
    assertError(keyed, "matrix_A.i and matrix_B.i");
  }

  @Test
  void namesTheModuleWhenAMatrixHasTheWrongShape() {
    Map<String, SourceTensor> keyed = module(3, 2, 4, 6);
    keyed.put(M + ".matrix_A.1", source("ckpt.pt", "model.diffusion_model." + M + ".matrix_A.1", Dtype.BF16, 3, 4));
    assertError(keyed, "matrix_A.1' is BF16[3, 4], expected BF16[2, 4]");
  }

  @Test
  void refusesMatricesWithoutTheirOriginalWeight() {
    Map<String, SourceTensor> keyed = module(1, 2, 4, 6);
    keyed.remove(M + ".original.weight");
    assertError(keyed, "no original.weight");
  }

  @Test
  void foldsAPeftModuleWithScaleOneUnlessAnAlphaIsGiven() {
    String q = "transformer_blocks.0.attn1.to_q";
    Map<String, SourceTensor> keyed = new LinkedHashMap<>();
    for (String[] key : new String[][] {{q + ".base_layer.weight", "6", "4"}, {q + ".base_layer.bias", "6"},
        {q + ".lora_A.default.weight", "2", "4"}, {q + ".lora_B.default.weight", "6", "2"}, {"norm_out.linear.bias", "8"}}) {
      long[] shape = Arrays.stream(key).skip(1).mapToLong(Long::parseLong).toArray();
      keyed.put(key[0], source("model.pt", key[0], Dtype.F32, shape));
    }
    LoraGrouper.Result atScaleOne = LoraGrouper.groupPeft(keyed, null);
    assertEquals(List.of(q + ".weight", q + ".bias", "norm_out.linear.bias"),
        atScaleOne.tensors().stream().map(ComponentTensor::key).toList());
    ComponentTensor merged = atScaleOne.tensors().get(0);
    assertEquals(1.0f, merged.lora().scale());
    assertEquals(List.of(List.of(keyed.get(q + ".lora_A.default.weight").byteRange())), merged.lora().a());
    assertEquals(List.of(q + ".base_layer.weight", q + ".lora_A.default.weight", q + ".lora_B.default.weight"),
        merged.sourceKeys());
    assertEquals(q, atScaleOne.groups().get(0).module());
    assertEquals(4.0f, LoraGrouper.groupPeft(keyed, 8.0).tensors().get(0).lora().scale());

    keyed.put(q + ".lora_A.other.weight", source("model.pt", q + ".lora_A.other.weight", Dtype.F32, 2, 4));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraGrouper.groupPeft(keyed, null));
    assertTrue(e.getMessage().contains("'default' and 'other'"), e.getMessage());
  }

  @Test
  void foldsAPeftFilesMatricesIntoTheBaseModelsWeight() {
    String q = "transformer_blocks.0.attn1.to_q";
    Map<String, SourceTensor> keyed = new LinkedHashMap<>();
    for (String[] key : new String[][] {{q + ".weight", "6", "4"}, {q + ".bias", "6"}, {"norm_out.linear.weight", "8", "4"},
        {q + ".lora_A.weight", "2", "4"}, {q + ".lora_B.weight", "6", "2"}}) {
      long[] shape = Arrays.stream(key).skip(1).mapToLong(Long::parseLong).toArray();
      keyed.put(key[0], source(key[0].contains("lora") ? "lora.safetensors" : "base.safetensors", key[0], Dtype.F32, shape));
    }
    LoraGrouper.Result result = LoraGrouper.groupPeft(keyed, 4.0);
    assertEquals(List.of(q + ".weight", q + ".bias", "norm_out.linear.weight"),
        result.tensors().stream().map(ComponentTensor::key).toList());
    ComponentTensor merged = result.tensors().get(0);
    assertEquals(2.0f, merged.lora().scale());
    assertEquals(List.of(List.of(keyed.get(q + ".lora_B.weight").byteRange())), merged.lora().b());
    assertEquals(List.of(q + ".weight", q + ".lora_A.weight", q + ".lora_B.weight"), merged.sourceKeys());
    assertEquals(null, result.tensors().get(2).lora());

    keyed.remove(q + ".weight");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraGrouper.groupPeft(keyed, null));
    assertTrue(e.getMessage().contains("no original.weight"), e.getMessage());
  }

  private static void assertError(Map<String, SourceTensor> keyed, String detail) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LoraGrouper.group(keyed, 1.0));
    assertTrue(e.getMessage().startsWith("ckpt.pt: LoRA module 'model.diffusion_model." + M + "'"), e.getMessage());
    assertTrue(e.getMessage().contains(detail), e.getMessage());
  }

  /** A lora2 module with p parts, rank r, in features, out rows, after an unrelated key. */
  private static Map<String, SourceTensor> module(int parts, int rank, int in, int out) {
    Map<String, SourceTensor> keyed = new LinkedHashMap<>();
    put(keyed, "before", 4);
    put(keyed, M + ".original.weight", out, in);
    put(keyed, M + ".original.bias", out);
    for (int i = 0; i < parts; i++) {
      put(keyed, M + ".matrix_A." + i, rank, in);
    }
    for (int i = 0; i < parts; i++) {
      put(keyed, M + ".matrix_B." + i, out / parts, rank);
    }
    return keyed;
  }

  private static void put(Map<String, SourceTensor> keyed, String key, long... shape) {
    keyed.put(key, source("ckpt.pt", "model.diffusion_model." + key, Dtype.BF16, shape));
  }
}
