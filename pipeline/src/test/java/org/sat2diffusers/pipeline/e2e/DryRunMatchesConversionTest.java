package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.records.Component;

/**
 * Issue 9, "see before you write": {@code convert --dry-run --plan-json} on every fixture, then the
 * real conversion with the same options. The plan, printed and as JSON, announces exactly the
 * component folders, shard files, tensor counts and bytes that the conversion then writes, names the
 * model, every drop with its rule and the LoRA groups; the dry run itself writes nothing.
 */
class DryRunMatchesConversionTest {
  private static final Pattern DROPPED_LINE = Pattern.compile("^  dropped (\\S+): (.+)$", Pattern.MULTILINE);
  private static final Pattern LORA_LINE =
      Pattern.compile("^  LoRA merged: (\\d+) modules, r=(\\d+) alpha=(\\S+) scale=(\\S+)$", Pattern.MULTILINE);

  @TempDir static Path work;
  private static final Map<DryRunCase, Runs> runs = new HashMap<>();

  /** A fixture conversion with extra options: sharding shows the plan names every shard. */
  record DryRunCase(FixtureConversion conversion, List<String> extraOptions) {
    String name() {
      return conversion.name() + (extraOptions.isEmpty() ? "" : "_sharded");
    }

    Object[] arguments(Path output, String... more) {
      List<Object> args = new ArrayList<>(Arrays.asList(conversion.arguments(output)));
      args.addAll(extraOptions);
      args.addAll(List.of(more));
      return args.toArray();
    }

    /** The model the fixture was made from (testdata/README.md), by its --model name. */
    String family() {
      return switch (conversion) {
        case SFT_LATEST, SFT_BF16, SFT_ITERATION_500 -> "cogvideox-2b";
        case LORA_ALPHA1, LORA_ALPHA4 -> "cogvideox-5b";
        case I2V_RELEASE -> "cogvideox-5b-i2v";
        case V15_I2V_LORA -> "cogvideox1.5-5b-i2v";
      };
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** The dry run, its JSON plan, and the real conversion into the folder the dry run was pointed at. */
  record Runs(CliRun dryRun, boolean outputExistedAfterDryRun, JsonNode planJson, Path output, CliRun conversion) {
    JsonNode plan() {
      return planJson.path("checkpoints").path(0).path("plan");
    }

    JsonNode report() {
      return TestData.json(output.resolve("conversion_report.json"));
    }
  }

  static Stream<DryRunCase> cases() {
    return Stream.concat(
        Stream.of(FixtureConversion.values()).map(c -> new DryRunCase(c, List.of())),
        Stream.of(new DryRunCase(FixtureConversion.SFT_LATEST, List.of("--max-shard-size", "20KB"))));
  }

  private static Runs runs(DryRunCase c) {
    return runs.computeIfAbsent(c, x -> {
      Path output = work.resolve(x.name());
      Path planFile = work.resolve(x.name() + ".plan.json");
      CliRun dryRun = CliRun.run(x.arguments(output, "--dry-run", "--plan-json", planFile.toString()));
      boolean existed = Files.exists(output);
      JsonNode plan = Files.exists(planFile) ? TestData.json(planFile) : null;
      CliRun conversion = CliRun.run(x.arguments(output)).assertSucceeded();
      return new Runs(dryRun, existed, plan, output, conversion);
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void dryRunSucceedsAndCreatesNothing(DryRunCase c) {
    Runs r = runs(c);
    assertEquals(0, r.dryRun().exitCode(), "exit code of " + r.dryRun().command() + "\nstderr:\n" + r.dryRun().err());
    assertFalse(r.outputExistedAfterDryRun(), r.output() + " exists after a dry run");
    assertTrue(r.planJson() != null, "--plan-json wrote no file");
    assertEquals(1, r.planJson().path("checkpoints").size(), "checkpoints in the JSON plan");
    assertEquals(c.conversion().iteration, r.planJson().path("checkpoints").path(0).path("iteration").asText());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void planJsonAnnouncesTheFilesTensorsAndBytesWritten(DryRunCase c) throws IOException {
    Runs r = runs(c);
    JsonNode planned = r.plan().path("components");
    Set<String> plannedFolders = new TreeSet<>();
    planned.fieldNames().forEachRemaining(plannedFolders::add);
    Set<String> writtenFolders = new TreeSet<>();
    for (Component component : Component.values()) {
      if (Files.isDirectory(r.output().resolve(component.folder()))) {
        writtenFolders.add(component.folder());
      }
    }
    assertEquals(writtenFolders, plannedFolders, "component folders planned vs written");
    for (String folder : plannedFolders) {
      Component component = Component.fromFolder(folder);
      ComponentWeights weights = ComponentWeights.read(r.output().resolve(folder), component.fileStem());
      JsonNode p = planned.get(folder);
      assertEquals(weights.files(), strings(p.path("files")), folder + ": planned vs written files");
      assertEquals(weights.tensors().size(), p.path("tensors").asInt(), folder + ": planned vs written tensors");
      assertEquals(weights.bytesPerFile().stream().mapToLong(Long::longValue).sum(), p.path("bytes").asLong(),
          folder + ": planned vs written tensor bytes");
    }
  }

  /** The real run's report is the plan plus what only writing tells (files, checksums, times, the BLAS that merged). */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void planJsonIsTheReportOfTheRealRunBeforeWriting(DryRunCase c) {
    Runs r = runs(c);
    ObjectNode report = (ObjectNode) r.report().deepCopy();
    report.remove(List.of("written_files", "config_files", "finite_check", "finished_at", "planned_at"));
    ((ObjectNode) report.path("provenance")).remove("lora_merge_blas");
    ObjectNode plan = (ObjectNode) r.plan().deepCopy();
    plan.remove("planned_at");
    assertEquals(report, plan);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void printedPlanNamesTheModelAndEveryShardWithItsTensors(DryRunCase c) throws IOException {
    Runs r = runs(c);
    String printed = r.dryRun().out();
    String model = ModelFamily.fromCliName(c.family()).displayName();
    assertTrue(printed.contains("model: " + model + " ("), "the plan does not name " + model + ":\n" + printed);
    assertEquals(c.family(), r.report().path("model").path("family").asText(), "conversion_report.json model");
    for (Component component : Component.values()) {
      Path folder = r.output().resolve(component.folder());
      if (!Files.isDirectory(folder)) {
        assertTrue(printed.lines().noneMatch(l -> l.strip().startsWith(component.folder() + "/")),
            "the plan names a file in the unwritten " + folder + ":\n" + printed);
        continue;
      }
      ComponentWeights weights = ComponentWeights.read(folder, component.fileStem());
      List<Long> bytes = weights.bytesPerFile();
      for (int i = 0; i < weights.files().size(); i++) {
        String file = weights.files().get(i);
        long tensors = weights.tensors().values().stream().filter(t -> t.file().equals(file)).count();
        String line = lineContaining(printed, component.folder() + "/" + file);
        assertTrue(line.contains("(" + tensors + " tensors, " + String.format("%,d bytes", bytes.get(i))),
            "planned " + line.strip() + " but wrote " + tensors + " tensors, " + bytes.get(i) + " bytes");
      }
    }
  }

  /** Every key the conversion dropped is printed with the rule that dropped it, and no other. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void printedPlanNamesEveryDropWithItsRule(DryRunCase c) {
    Runs r = runs(c);
    Map<String, String> dropped = new TreeMap<>();
    for (JsonNode entry : r.report().path("source_keys")) {
      if (entry.path("fate").asText().equals("dropped")) {
        dropped.put(entry.path("key").asText(), entry.path("rule").asText());
      }
    }
    Map<String, String> printed = new TreeMap<>();
    Matcher m = DROPPED_LINE.matcher(r.dryRun().out());
    while (m.find()) {
      printed.put(m.group(1), m.group(2));
    }
    assertEquals(dropped, printed, "drops printed by the dry run vs dropped by the conversion");
    for (Path manifest : c.conversion().sourceManifests()) {
      TestData.json(manifest).path("tensors").fieldNames().forEachRemaining(key -> {
        if (key.startsWith("loss.") || key.contains(".loss.")) {
          assertTrue(printed.getOrDefault(key, "").contains("loss"), "the VAE training key " + key + " is not dropped as loss");
        }
      });
    }
  }

  /** The 2B fine-tune: the frozen sincos table and T5's tied alias are dropped, each with its rule. */
  @Test
  void printedPlanOf2BDropsTheSincosTableAndTheTiedAlias() {
    String printed = runs(new DryRunCase(FixtureConversion.SFT_LATEST, List.of())).dryRun().out();
    assertTrue(lineContaining(printed, "dropped model.diffusion_model.mixins.pos_embed.pos_embedding:").contains("sincos"),
        printed);
    assertTrue(lineContaining(printed, "dropped conditioner.embedders.0.transformer.encoder.embed_tokens.weight:")
        .contains("tied alias of shared.weight"), printed);
  }

  /** LoRA groups printed by kind (r, alpha, scale) with their counts, as the conversion merged them; scale = alpha / r. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void printedPlanNamesTheLoraGroups(DryRunCase c) {
    Runs r = runs(c);
    Map<String, Integer> merged = new TreeMap<>();
    for (JsonNode g : r.report().path("lora_groups")) {
      double alpha = g.path("alpha").asDouble();
      int rank = g.path("rank").asInt();
      assertEquals(alpha / rank, g.path("scale").asDouble(), 1e-6, "scale of " + g);
      merged.merge(kind(rank, alpha, g.path("scale").asDouble()), 1, Integer::sum);
    }
    assertEquals(c.conversion().fixture().contains("lora"), !merged.isEmpty(), "LoRA groups of " + c.conversion().fixture());
    Map<String, Integer> printed = new TreeMap<>();
    Matcher m = LORA_LINE.matcher(r.dryRun().out());
    while (m.find()) {
      printed.put(kind(Integer.parseInt(m.group(2)), Double.parseDouble(m.group(3)), Double.parseDouble(m.group(4))),
          Integer.parseInt(m.group(1)));
    }
    assertEquals(merged, printed, "LoRA groups printed by the dry run vs merged by the conversion");
  }

  /** The scale is a float in SAT (and printed as one); the report widens it to a double. */
  private static String kind(int rank, double alpha, double scale) {
    return "r=" + rank + " alpha=" + alpha + " scale=" + (float) scale;
  }

  private static String lineContaining(String text, String part) {
    return text.lines().filter(l -> l.contains(part)).findFirst()
        .orElseThrow(() -> new AssertionError("no line with " + part + " in:\n" + text));
  }

  private static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    array.forEach(v -> values.add(v.asText()));
    return values;
  }
}
