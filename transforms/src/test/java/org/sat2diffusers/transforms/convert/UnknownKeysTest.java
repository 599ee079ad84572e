package org.sat2diffusers.transforms.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.transforms.records.SourcePart;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.transforms.model.Fixtures;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.Disposition;
import org.sat2diffusers.transforms.records.OutputTensor;
import org.sat2diffusers.transforms.records.TestTensors;
import org.sat2diffusers.transforms.convert.UnknownKeys;

/**
 * The 2B fine-tune plus two keys no rule knows: one under no component prefix, one transformer key
 * that is no Diffusers parameter. fail (the default) lists both, drop leaves them out with a reason,
 * keep writes the transformer one and still fails for the key no component can take.
 */
class UnknownKeysTest {
  private static final String STRAY = "optimizer.exp_avg.0";
  private static final String EXTRA = "model.diffusion_model.mixins.adapter.gate";

  @Test
  void failIsTheDefaultAndListsEveryUnknownKey() throws IOException {
    IllegalArgumentException unrouted = assertThrows(IllegalArgumentException.class,
        () -> plan(ConversionSettings.defaults(), STRAY));
    assertTrue(unrouted.getMessage().contains("ckpt.pt: 1 source key(s) under no component prefix"), unrouted.getMessage());
    assertTrue(unrouted.getMessage().contains(STRAY) && unrouted.getMessage().contains("--unknown-keys drop"));

    IllegalArgumentException extra = assertThrows(IllegalArgumentException.class,
        () -> plan(ConversionSettings.defaults(), EXTRA));
    assertTrue(extra.getMessage().contains("unexpected mixins.adapter.gate"), extra.getMessage());
    assertTrue(extra.getMessage().contains("--unknown-keys drop"), extra.getMessage());
  }

  @Test
  void dropLeavesThemOutAndSaysWhy() throws IOException {
    CheckpointPlan plan = plan(settings(UnknownKeys.DROP), STRAY, EXTRA);
    assertEquals(plan(settings(UnknownKeys.DROP)).mapping().outputs(Component.TRANSFORMER),
        plan.mapping().outputs(Component.TRANSFORMER));
    assertTrue(disposition(plan, STRAY).rule().contains("no component"), disposition(plan, STRAY).rule());
    assertEquals(Disposition.Fate.DROPPED, disposition(plan, EXTRA).fate());
    assertTrue(disposition(plan, EXTRA).rule().contains("--unknown-keys drop"), disposition(plan, EXTRA).rule());
  }

  @Test
  void keepWritesAKeyIntoItsComponentButCannotPlaceOneWithoutPrefix() throws IOException {
    CheckpointPlan plan = plan(settings(UnknownKeys.KEEP), EXTRA);
    List<String> names = plan.mapping().outputs(Component.TRANSFORMER).stream().map(OutputTensor::name).toList();
    assertTrue(names.contains("mixins.adapter.gate"), names.toString());
    assertTrue(plan.shards().stream().anyMatch(s -> s.tensors().stream().anyMatch(t -> t.name().equals("mixins.adapter.gate"))));

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> plan(settings(UnknownKeys.KEEP), STRAY));
    assertTrue(e.getMessage().contains("--unknown-keys keep has no component to write them into"), e.getMessage());
    assertTrue(e.getMessage().contains(STRAY), e.getMessage());
  }

  private static ConversionSettings settings(UnknownKeys policy) {
    return ConversionSettings.defaults().withUnknownKeys(policy);
  }

  private static Disposition disposition(CheckpointPlan plan, String key) {
    return plan.mapping().dispositions().stream().filter(d -> d.sourceKey().equals(key)).findFirst().orElseThrow();
  }

  /** Plans the 2B fixture's tensors with extra F32 [4] tensors of the given keys appended. */
  private static CheckpointPlan plan(ConversionSettings settings, String... extraKeys) throws IOException {
    String pt = Fixtures.testdata().resolve("sat/cogvideox-2b-sft/1000/mp_rank_00_model_states.pt").toString();
    CheckpointIndex index;
    try (RandomAccessInput in = RandomAccessInputs.open(pt)) {
      index = new TorchCheckpointReader().index(in);
    }
    List<TensorRecord> tensors = new ArrayList<>(index.tensors());
    for (String key : extraKeys) {
      tensors.add(TestTensors.record(key, Dtype.F32, 64, List.of(), List.of(4L)));
    }
    return CheckpointPlanner.plan("ckpt.pt", SourcePart.torchFiles(List.of(new CheckpointIndex(pt, "module", tensors, Map.of()))), settings, Optional.empty());
  }
}
