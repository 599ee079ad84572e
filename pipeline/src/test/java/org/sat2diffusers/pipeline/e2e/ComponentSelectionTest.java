package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.records.Component;

/**
 * Issue 9, {@code --components}: on the 2B fine-tune, converting only some components writes only
 * their folders (plus the report and the marker; model_index.json and scheduler/ are left to the
 * base model), they conform to testdata/expected, and the report drops the other components' keys
 * as "not selected" while every other key keeps the fate a full conversion gives it.
 */
class ComponentSelectionTest {
  private static final Path MANIFEST = TestPaths.expected("cogvideox-2b-sft/1000.json");
  private static final Path SOURCE = TestPaths.sat("cogvideox-2b-sft");

  @TempDir static Path work;
  /** What a full conversion does with each source key: the dry run's plan of it. */
  private static Map<String, JsonNode> fullPlan;
  private static final Map<List<Component>, Path> outputs = new HashMap<>();

  @BeforeAll
  static void planTheFullConversion() {
    Path planFile = work.resolve("full.plan.json");
    CliRun.run("convert", "--source", SOURCE, "--output", work.resolve("full"), "--dry-run", "--plan-json", planFile)
        .assertSucceeded();
    fullPlan = byKey(TestData.json(planFile).path("checkpoints").path(0).path("plan"));
  }

  static Stream<List<Component>> selections() {
    return Stream.of(List.of(Component.TRANSFORMER), List.of(Component.VAE, Component.TEXT_ENCODER));
  }

  private static Path converted(List<Component> selection) {
    return outputs.computeIfAbsent(selection, s -> {
      Path out = work.resolve(String.join("+", folders(s)));
      CliRun.run("convert", "--source", SOURCE, "--output", out, "--components", String.join(",", folders(s)))
          .assertSucceeded();
      return out;
    });
  }

  @ParameterizedTest
  @MethodSource("selections")
  void writesOnlyTheSelectedFoldersTheReportAndTheMarker(List<Component> selection) throws IOException {
    Path out = converted(selection);
    Set<String> expected = new TreeSet<>(List.of("conversion_report.json", "_SUCCESS"));
    expected.addAll(folders(selection));
    assertEquals(expected, OutputFolders.entries(out), "entries of " + out + " for --components " + folders(selection));
    for (Component c : selection) {
      JsonNode config = TestData.json(out.resolve(c.folder()).resolve("config.json"));
      String named = c == Component.TEXT_ENCODER ? config.path("architectures").path(0).asText() : config.path("_class_name").asText();
      assertTrue(!named.isEmpty(), c.folder() + "/config.json names no class: " + config);
    }
  }

  @ParameterizedTest
  @MethodSource("selections")
  void selectedComponentsConform(List<Component> selection) throws IOException {
    Path manifest = manifestOf(selection);
    assertEquals(List.of(), ExpectedTensors.mismatches(converted(selection), manifest));
  }

  /** Keys of unselected components are dropped as "not selected"; every other key keeps its fate. */
  @ParameterizedTest
  @MethodSource("selections")
  void reportDropsTheOtherComponentsKeysAsNotSelected(List<Component> selection) {
    Map<String, JsonNode> reported = byKey(TestData.json(converted(selection).resolve("conversion_report.json")));
    assertEquals(fullPlan.keySet(), reported.keySet(), "source keys of the report");
    Map<Component, Integer> notSelected = new EnumMap<>(Component.class);
    for (Map.Entry<String, JsonNode> full : fullPlan.entrySet()) {
      JsonNode entry = reported.get(full.getKey());
      String component = full.getValue().path("component").asText(null);
      if (component == null || selection.contains(Component.fromFolder(component))) {
        assertEquals(full.getValue(), entry, "the fate of " + full.getKey());
        continue;
      }
      assertEquals("dropped", entry.path("fate").asText(), full.getKey() + " of the unselected " + component);
      assertTrue(entry.path("component").isNull() && entry.path("outputs").isEmpty(), entry.toString());
      assertTrue(entry.path("rule").asText().contains("not selected"), full.getKey() + ": rule " + entry.path("rule"));
      notSelected.merge(Component.fromFolder(component), 1, Integer::sum);
    }
    Set<Component> unselected = EnumSet.complementOf(EnumSet.copyOf(selection));
    assertEquals(unselected, notSelected.keySet(), "components whose keys were dropped as not selected");
  }

  @Test
  void unknownComponentIsAUsageError() {
    Path out = work.resolve("unknown");
    CliRun run = CliRun.run("convert", "--source", SOURCE, "--output", out, "--components", "transformer,unet");
    assertEquals(ExitCodes.USAGE, run.exitCode(), run.err());
    assertTrue(run.err().contains("unet") && run.err().contains("text_encoder"),
        "the message names neither the bad component nor the valid ones:\n" + run.err());
    assertTrue(Files.notExists(out), out + " exists after a usage error");
  }

  /** The released I2V layout has no text encoder: selecting only it leaves nothing to convert. */
  @Test
  void selectingOnlyAnAbsentComponentIsRefused() throws IOException {
    Path out = work.resolve("absent");
    CliRun run = CliRun.run("convert", "--source", TestPaths.sat("cogvideox-5b-i2v-release"), "--output", out,
        "--components", "text_encoder");
    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), run.err());
    assertTrue(run.err().contains("text_encoder") && run.err().contains("cogvideox-5b-i2v-release"), run.err());
    assertEquals(List.of(), OutputFolders.committedFiles(out));
  }

  /** The expected manifest cut down to the selected components. */
  private static Path manifestOf(List<Component> selection) throws IOException {
    ObjectNode manifest = (ObjectNode) TestData.json(MANIFEST);
    manifest.retain(folders(selection));
    Path file = work.resolve(String.join("+", folders(selection)) + ".expected.json");
    new ObjectMapper().writeValue(file.toFile(), manifest);
    return file;
  }

  private static Map<String, JsonNode> byKey(JsonNode report) {
    Map<String, JsonNode> byKey = new HashMap<>();
    report.path("source_keys").forEach(e -> byKey.put(e.path("key").asText(), e));
    return byKey;
  }

  private static List<String> folders(List<Component> components) {
    List<String> names = new ArrayList<>();
    components.forEach(c -> names.add(c.folder()));
    return names;
  }
}
