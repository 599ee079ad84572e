package org.sat2diffusers.transforms.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.transforms.parallel.ParallelLayout.Split;
import org.sat2diffusers.transforms.records.SourceTensor;
import org.sat2diffusers.transforms.records.TestTensors;

/** The merge recipes of SAT's model-parallel layers, range by range, on two ranks. */
class RankMergerTest {
  private static final String R0 = "/run/1000/mp_rank_00_model_states.pt";
  private static final String R1 = "/run/1000/mp_rank_01_model_states.pt";
  private static final String LAYER = "model.diffusion_model.transformer.layers.0.";

  @Test
  void layersAreClassifiedAsSatPartitionsThem() {
    assertEquals(new ParallelLayout.Partition(Split.COLUMN, 3), ParallelLayout.of(LAYER + "attention.query_key_value.bias"));
    assertEquals(Split.ROW, ParallelLayout.of(LAYER + "attention.dense.weight").split());
    assertEquals(Split.REPLICATED, ParallelLayout.of(LAYER + "attention.dense.bias").split());
    assertEquals(Split.COLUMN, ParallelLayout.of(LAYER + "mlp.dense_h_to_4h.weight").split());
    assertEquals(Split.ROW, ParallelLayout.of(LAYER + "mlp.dense_4h_to_h.weight").split());
    assertEquals(Split.REPLICATED, ParallelLayout.of(LAYER + "mlp.dense_4h_to_h.bias").split());
    assertEquals(Split.REPLICATED, ParallelLayout.of("model.diffusion_model.mixins.adaln_layer.adaLN_modulations.0.1.weight").split());
    assertEquals(Split.REPLICATED, ParallelLayout.of("conditioner.embedders.0.transformer.encoder.block.0.layer.0.SelfAttention.q.weight").split());
  }

  @Test
  void queryKeyValueTakesEachRanksSliceOfQThenKThenV() {
    SourceTensor a = TestTensors.source(R0, LAYER + "attention.query_key_value.weight", Dtype.F16, 6, 4);
    SourceTensor b = TestTensors.source(R1, LAYER + "attention.query_key_value.weight", Dtype.F16, 6, 4);
    SourceTensor merged = RankMerger.merge(List.of(a, b)).tensors().get(0);
    assertEquals(List.of(12L, 4L), merged.tensor().shape());
    long part = 2 * 4 * 2; // 2 rows of 4 fp16 per rank and part
    List<ByteRange> expected = new ArrayList<>();
    for (int p = 0; p < 3; p++) {
      expected.add(new ByteRange(R0, a.tensor().fileOffset() + p * part, part));
      expected.add(new ByteRange(R1, b.tensor().fileOffset() + p * part, part));
    }
    assertEquals(expected, merged.byteRanges());
  }

  @Test
  void rowParallelRowsInterleaveTheRanksColumns() {
    SourceTensor a = TestTensors.source(R0, LAYER + "mlp.dense_4h_to_h.weight", Dtype.BF16, 2, 3);
    SourceTensor b = TestTensors.source(R1, LAYER + "mlp.dense_4h_to_h.weight", Dtype.BF16, 2, 3);
    SourceTensor merged = RankMerger.merge(List.of(a, b)).tensors().get(0);
    assertEquals(List.of(2L, 6L), merged.tensor().shape());
    assertEquals(List.of(
        new ByteRange(R0, a.tensor().fileOffset(), 6), new ByteRange(R1, b.tensor().fileOffset(), 6),
        new ByteRange(R0, a.tensor().fileOffset() + 6, 6), new ByteRange(R1, b.tensor().fileOffset() + 6, 6)),
        merged.byteRanges());
  }

  @Test
  void replicatedTensorsAreTakenFromRankZeroAndListedForTheCheck() {
    SourceTensor a = TestTensors.source(R0, LAYER + "attention.dense.bias", Dtype.F32, 4);
    SourceTensor b = TestTensors.source(R1, LAYER + "attention.dense.bias", Dtype.F32, 4);
    SourceTensor vae = TestTensors.source("/vae/3d-vae.pt", "encoder.conv_in.weight", Dtype.F32, 2);
    RankedSources merged = RankMerger.merge(List.of(a, b, vae));
    assertEquals(List.of(a, vae), merged.tensors());
    assertEquals(List.of(new ReplicatedTensor(a.key(), List.of(a, b))), merged.replicated());
    assertEquals(2, merged.ranks());
  }

  @Test
  void ranksMustAgreeOnKeysAndShapes() {
    SourceTensor a = TestTensors.source(R0, LAYER + "input_layernorm.weight", Dtype.F16, 4);
    SourceTensor b = TestTensors.source(R1, LAYER + "input_layernorm.bias", Dtype.F16, 4);
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> RankMerger.merge(List.of(a, b)));
    assertTrue(missing.getMessage().contains("'" + a.key() + "' is in rank 00") && missing.getMessage().contains("not in rank 01"),
        missing.getMessage());
    SourceTensor c = TestTensors.source(R1, a.key(), Dtype.F16, 5);
    IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> RankMerger.merge(List.of(a, c)));
    assertTrue(shape.getMessage().contains("[4] on rank 00") && shape.getMessage().contains("[5] on rank 01"), shape.getMessage());
  }
}
