package org.sat2diffusers.transforms.shard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.OutputTensor;

/** Boundaries worked out by hand from huggingface_hub's split_torch_state_dict_into_shards. */
class ShardPlannerTest {
  private static final Component TE = Component.TEXT_ENCODER; // file stem "model"

  @Test
  void closesTheOpenShardWhenTheNextTensorWouldOverflowIt() {
    assertEquals(
        List.of("model-00001-of-00002.safetensors [a, b] 8", "model-00002-of-00002.safetensors [c] 4"),
        describe(ShardPlanner.plan(tensors(4, 4, 4), TE, 10)));
  }

  @Test
  void fillsAShardExactlyToTheLimit() {
    assertEquals(
        List.of("model-00001-of-00002.safetensors [a, b] 10", "model-00002-of-00002.safetensors [c] 1"),
        describe(ShardPlanner.plan(tensors(5, 5, 1), TE, 10)));
  }

  @Test
  void givesATensorAboveTheLimitItsOwnShardAheadOfTheStillOpenOne() {
    // a (3) opens a shard; b (20) is appended as a shard at once; c (3) joins a's shard; d (5) would make 11
    assertEquals(
        List.of("model-00001-of-00003.safetensors [b] 20", "model-00002-of-00003.safetensors [a, c] 6",
            "model-00003-of-00003.safetensors [d] 5"),
        describe(ShardPlanner.plan(tensors(3, 20, 3, 5), TE, 10)));
  }

  @Test
  void oneShardTakesTheBareStem() {
    assertEquals(List.of("diffusion_pytorch_model.safetensors [a, b, c] 6"),
        describe(ShardPlanner.plan(tensors(1, 2, 3), Component.TRANSFORMER, 10)));
    assertEquals(List.of("model.safetensors [a] 20"), describe(ShardPlanner.plan(tensors(20), TE, 10)));
  }

  @Test
  void countsBytesOfTheOutputDtype() {
    OutputTensor bf16 = new OutputTensor(Component.TRANSFORMER, "w", Dtype.BF16, List.of(3L), Dtype.F32, List.of(), null, List.of());
    assertEquals(6, ShardPlanner.plan(List.of(bf16, bf16), TE, 6).get(0).bytes());
  }

  @Test
  void planNothingForNoTensorsAndRejectAZeroLimit() {
    assertEquals(List.of(), ShardPlanner.plan(List.of(), TE, 10));
    assertThrows(IllegalArgumentException.class, () -> ShardPlanner.plan(tensors(1), TE, 0));
  }

  private static List<OutputTensor> tensors(long... sizes) {
    List<OutputTensor> out = new ArrayList<>();
    for (int i = 0; i < sizes.length; i++) {
      out.add(new OutputTensor(Component.TRANSFORMER, String.valueOf((char) ('a' + i)), Dtype.U8, List.of(sizes[i]),
          Dtype.U8, List.of(), null, List.of()));
    }
    return out;
  }

  private static List<String> describe(List<PlannedShard> shards) {
    return shards.stream()
        .map(s -> s.fileName() + " " + s.tensors().stream().map(OutputTensor::name).toList() + " " + s.bytes())
        .toList();
  }
}
