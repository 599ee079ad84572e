package org.sat2diffusers.transforms.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.Disposition;
import org.sat2diffusers.transforms.records.LoraGroup;
import org.sat2diffusers.transforms.records.OutputTensor;
import org.sat2diffusers.transforms.records.SourceTensor;
import org.sat2diffusers.transforms.records.TensorMapping;
import org.sat2diffusers.transforms.records.Disposition.Fate;

/**
 * Plans every fixture conversion from the records the torch reader gives, as a conversion does, and
 * compares what becomes of every key with the expected outputs.
 */
class CheckpointPlannerFixtureTest {
  static Stream<FixtureCase> cases() {
    return FixtureCase.all();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void outputsMatchExpectedKeysDtypesAndShapesInOrder(FixtureCase c) {
    JsonNode expected = c.expectedJson();
    TensorMapping plan = c.mapping();

    List<Component> expectedComponents = new ArrayList<>();
    for (Component component : Component.values()) {
      if (expected.has(component.folder())) {
        expectedComponents.add(component);
        assertEquals(describe(expected.get(component.folder())), describe(plan.outputs(component)), component.folder());
      }
    }
    if (c.wholeCheckpoint()) {
      assertEquals(expectedComponents, plan.components());
    }
    List<String> expectedDropped = new ArrayList<>();
    expected.get("dropped_source_keys").forEach(k -> expectedDropped.add(k.asText()));
    assertEquals(expectedDropped, plan.unroutedKeys());
  }

  @ParameterizedTest
  @MethodSource("cases")
  void everySourceKeyHasOneDispositionConsistentWithTheOutputs(FixtureCase c) {
    List<SourceTensor> sources = c.sources();
    TensorMapping plan = c.mapping();

    assertEquals(sources.stream().map(SourceTensor::key).toList(),
        plan.dispositions().stream().map(Disposition::sourceKey).toList());
    Map<String, Set<String>> outputsOfSource = new LinkedHashMap<>();
    for (Component component : plan.components()) {
      for (OutputTensor t : plan.outputs(component)) {
        t.sourceKeys().forEach(k -> outputsOfSource.computeIfAbsent(k, x -> new HashSet<>()).add(t.name()));
      }
    }
    for (Disposition d : plan.dispositions()) {
      assertNotNull(d.rule());
      if (d.fate() == Fate.DROPPED) {
        assertTrue(!outputsOfSource.containsKey(d.sourceKey()), d.sourceKey() + " dropped but used");
      } else {
        assertEquals(outputsOfSource.get(d.sourceKey()), new HashSet<>(d.outputs()), d.sourceKey());
      }
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void loraModulesAreReportedAndMergedWhereExpected(FixtureCase c) {
    JsonNode expected = c.expectedJson();
    TensorMapping plan = c.mapping();

    Set<String> expectedMerged = new HashSet<>();
    expected.fields().forEachRemaining(component -> component.getValue().fields().forEachRemaining(
        t -> {
          if (t.getValue().path("lora_merged").asBoolean()) {
            expectedMerged.add(t.getKey());
          }
        }));
    Set<String> merged = new HashSet<>();
    plan.components().forEach(comp -> plan.outputs(comp).stream().filter(t -> t.lora() != null)
        .forEach(t -> merged.add(t.name())));
    assertEquals(expectedMerged, merged);

    long sourceMatrices = c.sources().stream().filter(s -> s.key().contains(".matrix_")).count();
    assertEquals(sourceMatrices, plan.loraGroups().stream().mapToLong(g -> 2L * g.parts()).sum());
    for (LoraGroup g : plan.loraGroups()) {
      assertEquals(4, g.rank(), g.module());
      assertEquals((float) (c.loraAlpha() / 4), g.scale(), g.module());
      assertEquals(g.module().endsWith("query_key_value") ? 3 : 1, g.parts(), g.module());
    }
  }

  private static List<String> describe(JsonNode component) {
    List<String> out = new ArrayList<>();
    component.fields().forEachRemaining(e -> out.add(
        e.getKey() + " " + e.getValue().get("dtype").asText() + " " + e.getValue().get("shape").toString().replace(",", ", ")));
    return out;
  }

  private static List<String> describe(List<OutputTensor> tensors) {
    return tensors.stream().map(t -> t.name() + " " + t.dtype() + " " + t.shape()).toList();
  }
}
