package org.sat2diffusers.transforms.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.transforms.records.SourcePart;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.transforms.model.Fixtures;
import org.sat2diffusers.transforms.shard.PlannedShard;

/**
 * conversion_report.json accounts for every source tensor of each fixture exactly once (mapped, split,
 * merged or dropped, each with its rule), and per component the bytes of the source tensors written
 * (LoRA matrices aside: they fold into their weight) equal the bytes of its outputs, dtypes kept.
 */
class ReportAccountingTest {
  static Stream<Arguments> checkpoints() {
    ConversionSettings auto = ConversionSettings.defaults();
    ConversionSettings fiveB = new ConversionSettings(null, null, null, 0, "cogvideox-5b", null, List.of());
    return Stream.of(
        Arguments.of(Named.of("2b-sft", List.of("cogvideox-2b-sft/1000/mp_rank_00_model_states.pt")), auto),
        Arguments.of(Named.of("5b-lora", List.of("cogvideox-5b-lora/200/mp_rank_00_model_states.pt")), fiveB),
        Arguments.of(Named.of("1.5-i2v-lora", List.of("cogvideox1.5-5b-i2v-lora/300/mp_rank_00_model_states.pt")), auto),
        Arguments.of(Named.of("5b-i2v-release", List.of("cogvideox-5b-i2v-release/transformer/1/mp_rank_00_model_states.pt",
            "cogvideox-5b-i2v-release/vae/3d-vae.pt")), auto));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("checkpoints")
  @SuppressWarnings("unchecked")
  void everySourceTensorIsAccountedForAndBytesBalancePerComponent(List<String> files, ConversionSettings settings)
      throws IOException {
    List<CheckpointIndex> sources = new ArrayList<>();
    Map<String, Long> sourceBytes = new HashMap<>();
    for (String f : files) {
      String pt = Fixtures.testdata().resolve("sat").resolve(f).toString();
      CheckpointIndex index;
      try (RandomAccessInput in = RandomAccessInputs.open(pt)) {
        index = new TorchCheckpointReader().index(in);
      }
      sources.add(index);
      for (TensorRecord t : index.tensors()) {
        sourceBytes.put(t.key(), t.byteLength());
      }
    }
    CheckpointPlan plan = CheckpointPlanner.plan("fixture", SourcePart.torchFiles(sources), settings, Optional.empty());
    Map<String, Object> report = (Map<String, Object>) PythonJson.parse(PythonJson.dumps(plan.report(), false));

    Map<String, Long> bytesIn = new TreeMap<>();
    List<String> accounted = new ArrayList<>();
    for (Object item : (List<Object>) report.get("source_keys")) {
      Map<String, Object> d = (Map<String, Object>) item;
      String key = (String) d.get("key");
      String fate = (String) d.get("fate");
      accounted.add(key);
      assertFalse(((String) d.get("rule")).isBlank(), key + " has no rule");
      if (fate.equals("mapped") || fate.equals("split")) {
        bytesIn.merge((String) d.get("component"), sourceBytes.get(key), Long::sum);
      } else if (fate.equals("dropped")) {
        assertTrue(((String) d.get("rule")).startsWith("drop"), key + ": " + d.get("rule"));
      }
    }
    assertEquals(sources.stream().flatMap(s -> s.tensors().stream()).map(TensorRecord::key).toList(), accounted);

    Map<String, Long> bytesOut = new TreeMap<>();
    ((Map<String, Object>) report.get("components")).forEach(
        (component, summary) -> bytesOut.put(component, ((Number) ((Map<String, Object>) summary).get("bytes")).longValue()));
    assertEquals(bytesIn, bytesOut);
    for (var c : plan.mapping().components()) {
      long planned = plan.shards().stream().filter(s -> s.component() == c).mapToLong(PlannedShard::bytes).sum();
      assertEquals(bytesOut.get(c.folder()), planned, c.folder() + ": bytes in the shards");
    }
  }
}
