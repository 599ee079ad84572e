package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.records.Component;

/**
 * Issue 14, one plan for every front door: {@code convert --dry-run} plans with the conversion's own
 * functions, so over every fixture of testdata/sat, every file of testdata/bad and the model-parallel
 * splits it exits as the conversion does, and for what is accepted its plan ({@code --plan-json}) is
 * the conversion's report before writing: the same component folders, shard files, tensors and bytes.
 * The one exception needs tensor bytes, which a dry run does not read: ranks that disagree on a
 * replicated tensor pass the dry run, whose plan lists that check, and fail the conversion.
 */
class DryRunAcceptsWhatConversionAcceptsTest {
  private static final Path SPLIT = TestPaths.testdata().resolve("model-parallel");

  @TempDir static Path work;

  /** A conversion's arguments, given its output folder. */
  record Case(String name, boolean modelParallel, Function<Path, Object[]> arguments) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Case> cases() throws IOException {
    List<Case> cases = new ArrayList<>();
    for (FixtureConversion c : FixtureConversion.values()) {
      cases.add(new Case(c.name(), false, c::arguments));
    }
    for (Path bad : BadCorpus.all()) {
      cases.add(source("bad/" + bad.getFileName(), false, bad));
    }
    cases.add(source("mp2", true, SPLIT.resolve("cogvideox-2b-sft-mp2")));
    cases.add(source("mp4", true, SPLIT.resolve("cogvideox-2b-sft-mp4")));
    cases.add(source("lora-mp2", true, SPLIT.resolve("cogvideox-5b-lora-mp2"), "--model", "cogvideox-5b"));
    cases.add(source("release-mp2-without-vae", true, SPLIT.resolve("cogvideox-5b-i2v-release-mp2")));
    Path release = TestPaths.copyTree(SPLIT.resolve("cogvideox-5b-i2v-release-mp2"), work.resolve("release-mp2"));
    TestPaths.copyTree(TestPaths.sat("cogvideox-5b-i2v-release/vae"), release.resolve("vae"));
    cases.add(source("release-mp2", true, release));
    return cases.stream();
  }

  private static Case source(String name, boolean modelParallel, Path source, String... options) {
    return new Case(name, modelParallel, output -> {
      List<Object> args = new ArrayList<>(List.of("convert", "--source", source, "--output", output));
      args.addAll(List.of(options));
      return args.toArray();
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void theDryRunAcceptsWhatTheConversionAcceptsAndPlansWhatItWrites(Case c) throws IOException {
    Path output = work.resolve("out").resolve(c.name());
    Path planFile = work.resolve("plans").resolve(c.name() + ".json");
    Files.createDirectories(planFile.getParent());
    CliRun dryRun = CliRun.run(args(c, output, "--dry-run", "--plan-json", planFile.toString()));
    CliRun conversion = CliRun.run(args(c, output));
    assertEquals(conversion.exitCode(), dryRun.exitCode(),
        "dry run vs conversion exit codes\ndry run:\n" + dryRun.err() + "\nconversion:\n" + conversion.err());
    if (conversion.exitCode() != 0) {
      return;
    }
    JsonNode checkpoint = TestData.json(planFile).path("checkpoints").path(0);
    assertPlanIsWhatWasWritten(checkpoint.path("plan"), output);
    assertEquals(c.modelParallel(), !checkpoint.path("checks_the_conversion_still_makes").isEmpty(),
        "checks left to the conversion: " + checkpoint.path("checks_the_conversion_still_makes"));
  }

  @Test
  void ranksThatDisagreePassTheDryRunWithTheCheckListedAndFailTheConversion() throws IOException {
    Path run = TestPaths.copyTree(SPLIT.resolve("cogvideox-2b-sft-mp4"), work.resolve("mismatch"));
    ModelParallelConversionTest.flipLastByte(run.resolve("1000/mp_rank_02_model_states.pt"),
        ModelParallelConversionTest.REPLICATED);
    Path output = work.resolve("mismatch-out");
    Path planFile = work.resolve("mismatch.plan.json");
    CliRun dryRun = CliRun.run("convert", "--source", run, "--output", output, "--dry-run", "--plan-json", planFile);
    assertEquals(0, dryRun.exitCode(), dryRun.err());
    assertTrue(dryRun.out().contains("the conversion will still check"), dryRun.out());
    JsonNode pending = TestData.json(planFile).path("checkpoints").path(0).path("checks_the_conversion_still_makes");
    assertTrue(pending.path(0).path("tensors").toString().contains(ModelParallelConversionTest.REPLICATED),
        pending.toString());
    CliRun conversion = CliRun.run("convert", "--source", run, "--output", output).assertNoStackTrace();
    assertNotEquals(0, conversion.exitCode());
    assertTrue(conversion.err().contains("'" + ModelParallelConversionTest.REPLICATED + "' differs"), conversion.err());
  }

  /** The report is the plan plus what only writing tells (files written, their digests); the folders, files, tensors and bytes are the planned ones. */
  private static void assertPlanIsWhatWasWritten(JsonNode plan, Path output) throws IOException {
    ObjectNode report = (ObjectNode) TestData.json(output.resolve("conversion_report.json")).deepCopy();
    report.remove(List.of("written_files", "config_files", "finite_check", "finished_at", "planned_at"));
    ((ObjectNode) report.path("provenance")).remove("lora_merge_blas"); // the BLAS that did the merge
    ObjectNode planned = (ObjectNode) plan.deepCopy();
    planned.remove("planned_at");
    assertEquals(report, planned, "the dry run's plan vs the conversion's report");

    Set<String> plannedFolders = new TreeSet<>();
    plan.path("components").fieldNames().forEachRemaining(plannedFolders::add);
    Set<String> writtenFolders = new TreeSet<>();
    for (Component component : Component.values()) {
      if (Files.isDirectory(output.resolve(component.folder()))) {
        writtenFolders.add(component.folder());
      }
    }
    assertEquals(writtenFolders, plannedFolders, "component folders planned vs written");
    for (String folder : plannedFolders) {
      Component component = Component.fromFolder(folder);
      ComponentWeights written = ComponentWeights.read(output.resolve(folder), component.fileStem());
      JsonNode p = plan.path("components").path(folder);
      List<String> files = new ArrayList<>();
      p.path("files").forEach(f -> files.add(f.asText()));
      assertEquals(written.files(), files, folder + ": shard files planned vs written");
      Set<String> plannedTensors = new TreeSet<>();
      for (JsonNode key : plan.path("source_keys")) {
        if (key.path("component").asText().equals(folder)) {
          key.path("outputs").forEach(o -> plannedTensors.add(o.asText()));
        }
      }
      assertEquals(new TreeSet<>(written.tensors().keySet()), plannedTensors, folder + ": tensors planned vs written");
      assertEquals(written.bytesPerFile().stream().mapToLong(Long::longValue).sum(), p.path("bytes").asLong(),
          folder + ": tensor bytes planned vs written");
    }
  }

  private static Object[] args(Case c, Path output, Object... more) {
    List<Object> args = new ArrayList<>(Arrays.asList(c.arguments().apply(output)));
    args.addAll(Arrays.asList(more));
    return args.toArray();
  }
}
