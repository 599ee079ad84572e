package org.sat2diffusers.transforms.reverse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.transforms.adapter.PeftLoraConfig;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.DiffusersTensor;
import org.sat2diffusers.transforms.records.SatTensor;
import org.sat2diffusers.transforms.rules.TransformerInverseRules;

/** A PEFT adapter written back as SAT lora2: the names and order SAT saves, the alpha, and what lora2 cannot hold. */
class Lora2RestoreTest {
  private static final int H = 4;
  private static final int R = 2;

  private static DiffusersTensor t(String key, long rows, long cols) {
    return new DiffusersTensor(Component.TRANSFORMER, key, Dtype.BF16, List.of(rows, cols), new ByteRange(key, 0, rows * cols * 2));
  }

  private static List<SatTensor> layer() {
    List<DiffusersTensor> d = new ArrayList<>();
    for (String m : List.of("to_q", "to_k", "to_v", "to_out.0")) {
      d.add(t("transformer_blocks.0.attn1." + m + ".weight", H, H));
      d.add(new DiffusersTensor(Component.TRANSFORMER, "transformer_blocks.0.attn1." + m + ".bias", Dtype.BF16,
          List.of((long) H), new ByteRange(m + ".bias", 0, H * 2)));
    }
    return TransformerInverseRules.apply(d);
  }

  private static DiffusersModel.Adapter adapter(List<String> modules, int rank, double alpha) {
    List<DiffusersTensor> tensors = new ArrayList<>();
    for (String m : modules) {
      tensors.add(t("transformer.transformer_blocks.0.attn1." + m + ".lora_A.weight", rank, H));
      tensors.add(t("transformer.transformer_blocks.0.attn1." + m + ".lora_B.weight", H, rank));
    }
    return new DiffusersModel.Adapter("adapter.safetensors", tensors,
        new PeftLoraConfig(rank, alpha, Map.of(), Map.of(), modules, false));
  }

  @Test
  void writesOriginalThenMatricesAThenBInPartOrderWithTheAdaptersScale() {
    Lora2Restore.Result r = Lora2Restore.restore(layer(), adapter(List.of("to_v", "to_out.0", "to_k", "to_q"), R, 8), R);
    String qkv = "transformer.layers.0.attention.query_key_value.";
    String dense = "transformer.layers.0.attention.dense.";
    assertEquals(List.of(qkv + "original.weight", qkv + "original.bias", qkv + "matrix_A.0", qkv + "matrix_A.1",
        qkv + "matrix_A.2", qkv + "matrix_B.0", qkv + "matrix_B.1", qkv + "matrix_B.2", dense + "original.weight",
        dense + "original.bias", dense + "matrix_A.0", dense + "matrix_B.0"), r.tensors().stream().map(SatTensor::key).toList());
    assertEquals("transformer.transformer_blocks.0.attn1.to_k.lora_A.weight",
        r.tensors().get(3).sources().get(0).file(), "matrix_A.1 is to_k's: the fused order");
    assertEquals(8.0, r.alpha(), "SAT's alpha / r equals PEFT's lora_alpha / r");
    assertEquals(List.of(0), r.layers());
  }

  @Test
  void refusesWhatLora2CannotHold() {
    IllegalArgumentException partial = assertThrows(IllegalArgumentException.class,
        () -> Lora2Restore.restore(layer(), adapter(List.of("to_q", "to_out.0"), R, R), R));
    assertTrue(partial.getMessage().contains("adapts transformer.layers.0.attention.query_key_value as a whole"),
        partial.getMessage());
    IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
        () -> Lora2Restore.restore(layer(), adapter(List.of("to_q", "to_k", "to_v", "to_out.0"), R, R), 3));
    assertTrue(rank.getMessage().contains("not a rank-3 pair"), rank.getMessage());
    List<String> withFeedForward = new ArrayList<>(List.of("to_q", "to_k", "to_v", "to_out.0"));
    DiffusersModel.Adapter ff = adapter(withFeedForward, R, R);
    List<DiffusersTensor> more = new ArrayList<>(ff.tensors());
    more.add(t("transformer.transformer_blocks.0.ff.net.0.proj.lora_A.weight", R, H));
    more.add(t("transformer.transformer_blocks.0.ff.net.0.proj.lora_B.weight", 4 * H, R));
    IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
        () -> Lora2Restore.restore(layer(), new DiffusersModel.Adapter("a", more, ff.config()), R));
    assertTrue(other.getMessage().contains("wraps only attention") && other.getMessage().contains("ff.net.0.proj"),
        other.getMessage());
  }
}
