package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 18: an output that is, lies inside, or holds an input is refused before anything is written
 * (exit code 2, both paths named), however the path is spelled; the sources stay byte for byte.
 */
class OutputOverlapTest {
  private static final String RUN = "cogvideox-5b-lora";

  @TempDir Path work;
  private Path run;
  private Map<String, String> before;

  @BeforeEach
  void copyRun() throws IOException {
    run = TestPaths.copyTree(TestPaths.sat(RUN), work.resolve("runs").resolve(RUN));
    before = TreeSnapshot.of(work);
  }

  @Test
  void planJsonNamingTheCheckpointIsRefused() throws IOException {
    Path checkpoint = run.resolve("200/mp_rank_00_model_states.pt");
    CliRun r = CliRun.run("convert", "--source", run, "--output", work.resolve("out"), "--dry-run",
        "--plan-json", checkpoint);
    assertRefused(r, "--plan-json " + checkpoint, checkpoint.toString());
  }

  @Test
  void outputEqualToTheRunIsRefused() throws IOException {
    assertRefused(convert(run, run), "output folder " + run + " is source " + run);
  }

  @Test
  void outputInsideAnIterationIsRefused() throws IOException {
    Path inside = run.resolve("200");
    assertRefused(convert(run, inside), "output folder " + inside, run.toString());
  }

  @Test
  void outputThroughASymlinkToTheRunIsRefused() throws IOException {
    Path link = Files.createSymbolicLink(work.resolve("link"), run);
    before = TreeSnapshot.of(work);
    assertRefused(convert(run, link.resolve("converted")), "really " + run.resolve("converted"), run.toString());
  }

  @Test
  void outputSpelledWithDotDotIsRefused() throws IOException {
    Path dotted = run.resolve("..").resolve(RUN);
    assertRefused(convert(run, dotted), "output folder " + run + " is source " + run);
  }

  @Test
  void outputHoldingTheSourceIsRefused() throws IOException {
    assertRefused(convert(run, work), "output folder " + work, "holds");
  }

  @Test
  void aManifestJobMayNotWriteIntoAnotherJobsSource() throws IOException {
    Path other = TestPaths.copyTree(TestPaths.sat("cogvideox1.5-5b-i2v-lora"), work.resolve("runs/other"));
    Path manifest = work.resolve("jobs.yaml");
    Files.writeString(manifest, new JobsYaml()
        .job("source", run.toString(), work.resolve("out").toString(), List.of())
        .job("source", other.toString(), run.resolve("converted").toString(), List.of()).toString());
    before = TreeSnapshot.of(work);
    CliRun r = CliRun.run("convert", "--manifest", manifest);
    assertRefused(r, "output folder " + run.resolve("converted") + " is inside source " + run);
  }

  @Test
  void aManifestJobMayNotWriteOverAnotherJobsSatConfig() throws IOException {
    Path configs = work.resolve("configs");
    Path satConfig = writeSatConfig(configs.resolve("sat.yaml"));
    Path other = TestPaths.copyTree(TestPaths.sat("cogvideox1.5-5b-i2v-lora"), work.resolve("runs/other"));
    Path manifest = work.resolve("jobs.yaml");
    Files.writeString(manifest, new JobsYaml()
        .job("source", run.toString(), work.resolve("out").toString(), List.of("--sat-config", satConfig.toString(), "--model", "cogvideox-5b"))
        .job("source", other.toString(), configs.toString(), List.of("--model", "cogvideox1.5-5b-i2v")).toString());
    before = TreeSnapshot.of(work);
    CliRun r = CliRun.run("convert", "--manifest", manifest);
    assertRefused(r, "output folder " + configs + " holds sat_config (job at line 1) " + satConfig);
  }

  @Test
  void planJsonNamingAManifestJobsSatConfigIsRefused() throws IOException {
    Path satConfig = writeSatConfig(work.resolve("configs/sat.yaml"));
    Path manifest = work.resolve("jobs.yaml");
    Files.writeString(manifest, new JobsYaml()
        .job("source", run.toString(), work.resolve("out").toString(), List.of("--sat-config", satConfig.toString(), "--model", "cogvideox-5b"))
        .toString());
    before = TreeSnapshot.of(work);
    CliRun r = CliRun.run("convert", "--manifest", manifest, "--dry-run", "--plan-json", satConfig);
    assertRefused(r, "--plan-json " + satConfig + " is sat_config (job at line 1) " + satConfig);
  }

  @Test
  void aManifestJobMayNotWriteIntoAnotherJobsBasePipeline() throws IOException {
    Path base = work.resolve("base");
    Files.createDirectories(base);
    Files.writeString(base.resolve("model_index.json"), "{\"_class_name\": \"CogVideoXPipeline\"}");
    Path other = TestPaths.copyTree(TestPaths.sat("cogvideox1.5-5b-i2v-lora"), work.resolve("runs/other"));
    Path manifest = work.resolve("jobs.yaml");
    Files.writeString(manifest, new JobsYaml()
        .job("source", other.toString(), work.resolve("out-other").toString(), List.of("--base-pipeline", base.toString()))
        .job("source", run.toString(), base.resolve("transformer").toString(), List.of()).toString());
    before = TreeSnapshot.of(work);
    CliRun r = CliRun.run("convert", "--manifest", manifest);
    assertRefused(r, "output folder " + base.resolve("transformer") + " is inside base_pipeline (job at line 1) " + base);
  }

  @Test
  void aSeparateOutputStillConverts() throws IOException {
    convert(run, work.resolve("out")).assertSucceeded();
    assertEquals(before, TreeSnapshot.of(work).entrySet().stream()
        .filter(e -> !e.getKey().startsWith("out"))
        .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)), "sources untouched");
    assertTrue(Files.exists(work.resolve("out/_SUCCESS")));
  }

  /** A SAT training YAML for the 5B LoRA run (its LoRA rank and alpha), written to {@code file}. */
  private static Path writeSatConfig(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    return Files.writeString(file, """
        model:
          network_config:
            params:
              modules:
                lora_config:
                  params:
                    r: 4
                    lora_alpha: 4
        """);
  }

  private static CliRun convert(Path source, Path output) {
    return CliRun.run("convert", "--source", source, "--output", output, "--model", "cogvideox-5b");
  }

  private void assertRefused(CliRun r, String... named) throws IOException {
    assertEquals(2, r.exitCode(), r.err());
    r.assertNoStackTrace();
    for (String n : named) {
      assertTrue(r.err().contains(n), "expected '" + n + "' in:\n" + r.err());
    }
    assertEquals(before, TreeSnapshot.of(work), "nothing changed below " + work);
    assertFalse(Files.exists(work.resolve("out")));
  }
}
