package org.sat2diffusers.pipeline.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.sat.IterationSelection;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.convert.ConversionSettings;

class JobExpanderTest {
  private static final Path SAT = TestPaths.sat();
  private static final String OUT = "/out";
  private static final ConversionSettings SETTINGS = ConversionSettings.defaults();

  private static String sat(String relative) {
    return SAT.resolve(relative).toString();
  }

  private static JobRequest request(List<String> sources, List<String> roots, IterationSelection iterations) {
    return new JobRequest(sources, roots, iterations, OUT + "/", SETTINGS);
  }

  private static List<String> outputs(List<CheckpointJob> jobs) {
    return jobs.stream().map(CheckpointJob::outputDir).toList();
  }

  @Test
  void allIterationsOfEveryFixtureRunGoBelowTheirRunPath() throws IOException {
    List<CheckpointJob> jobs =
        JobExpander.expand(request(List.of(), List.of(SAT.toString()), IterationSelection.all()));

    assertEquals(
        List.of(
            "/out/cogvideox-2b-sft/500",
            "/out/cogvideox-2b-sft/1000",
            "/out/cogvideox-5b-i2v-release/1",
            "/out/cogvideox-5b-lora/200",
            "/out/cogvideox1.5-5b-i2v-lora/300"),
        outputs(jobs));
    assertEquals(List.of("500", "1000", "1", "200", "300"), jobs.stream().map(CheckpointJob::iteration).toList());
    assertEquals(outputs(jobs), jobs.stream().map(CheckpointJob::id).toList());
    assertEquals(List.of(sat("cogvideox-2b-sft/500/mp_rank_00_model_states.pt")), jobs.get(0).files());
    assertEquals(
        List.of(
            sat("cogvideox-5b-i2v-release/transformer/1/mp_rank_00_model_states.pt"),
            sat("cogvideox-5b-i2v-release/vae/3d-vae.pt")),
        jobs.get(2).files());
    assertEquals(sat("cogvideox-5b-lora"), jobs.get(3).source());
    assertTrue(jobs.stream().allMatch(j -> j.settings() == SETTINGS));
  }

  /** --vae joins every checkpoint after its own files, and is named as the job's VAE. */
  @Test
  void aSeparateVaeJoinsEveryCheckpoint() throws IOException {
    String vae = TestPaths.testdata().resolve("training/components/3d-vae.pt").toString();
    List<CheckpointJob> jobs = JobExpander.expand(new JobRequest(List.of(sat("cogvideox-5b-lora"),
        sat("cogvideox-2b-sft/500/mp_rank_00_model_states.pt")), List.of(), null, OUT, SETTINGS, 16, vae));

    assertEquals(List.of(List.of(sat("cogvideox-5b-lora/200/mp_rank_00_model_states.pt"), vae),
        List.of(sat("cogvideox-2b-sft/500/mp_rank_00_model_states.pt"), vae)), jobs.stream().map(CheckpointJob::files).toList());
    assertTrue(jobs.stream().allMatch(j -> vae.equals(j.vae())), jobs.toString());
  }

  @Test
  void aMissingSeparateVaeOrOneOfTheCheckpointsOwnFilesIsRefused() {
    String missing = TestPaths.testdata().resolve("training/components/missing.pt").toString();
    InvalidJobsException e = assertThrows(InvalidJobsException.class, () -> JobExpander.expand(new JobRequest(
        List.of(sat("cogvideox-5b-lora")), List.of(), null, OUT, SETTINGS, 16, missing)));
    assertEquals(List.of("--vae " + missing + " does not exist"), e.problems());

    String releasedVae = sat("cogvideox-5b-i2v-release/vae/3d-vae.pt");
    InvalidJobsException own = assertThrows(InvalidJobsException.class, () -> JobExpander.expand(new JobRequest(
        List.of(sat("cogvideox-5b-i2v-release")), List.of(), null, OUT, SETTINGS, 16, releasedVae)));
    assertEquals(List.of("--vae " + releasedVae + " is a file of the checkpoint " + sat("cogvideox-5b-i2v-release")
        + " itself"), own.problems());
  }

  @Test
  void latestIsTheDefault() throws IOException {
    List<CheckpointJob> jobs = JobExpander.expand(request(List.of(), List.of(SAT.toString()), null));
    assertEquals(List.of("1000", "1", "200", "300"), jobs.stream().map(CheckpointJob::iteration).toList());
    assertEquals("/out/cogvideox-2b-sft/1000", jobs.get(0).outputDir());
  }

  @Test
  void oneSourceWithSeveralIterationsGoesToOutIteration() throws IOException {
    List<CheckpointJob> jobs = JobExpander.expand(
        request(List.of(sat("cogvideox-2b-sft")), List.of(), IterationSelection.parse("1000,500")));
    assertEquals(List.of("/out/1000", "/out/500"), outputs(jobs));
    assertEquals(List.of(sat("cogvideox-2b-sft/500/mp_rank_00_model_states.pt")), jobs.get(1).files());
  }

  @Test
  void exactlyOneCheckpointGoesToOut() throws IOException {
    assertEquals(List.of("/out"), outputs(JobExpander.expand(request(List.of(sat("cogvideox-2b-sft")), List.of(), null))));
    assertEquals(List.of("/out"),
        outputs(JobExpander.expand(request(List.of(), List.of(sat("cogvideox-5b-lora")), IterationSelection.all()))));
  }

  @Test
  void severalSourcesGoBelowTheirRunFolderNames() throws IOException {
    List<CheckpointJob> jobs = JobExpander.expand(request(
        List.of(sat("cogvideox-5b-lora"), sat("cogvideox-2b-sft/500"),
            sat("cogvideox1.5-5b-i2v-lora/300/mp_rank_00_model_states.pt")),
        List.of(), null));
    assertEquals(
        List.of("/out/cogvideox-5b-lora/200", "/out/cogvideox-2b-sft/500", "/out/cogvideox1.5-5b-i2v-lora/300"),
        outputs(jobs));
  }

  @Test
  void iterationsGivenForOneCheckpointIsReported() throws IOException {
    List<String> warnings = new ArrayList<>();
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord record) {
        warnings.add(record.getMessage());
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    Logger logger = Logger.getLogger("sat2diffusers");
    logger.addHandler(handler);
    try {
      List<CheckpointJob> jobs = JobExpander.expand(
          request(List.of(sat("cogvideox-2b-sft/500")), List.of(), IterationSelection.all()));
      assertEquals(List.of("500"), jobs.stream().map(CheckpointJob::iteration).toList());
    } finally {
      logger.removeHandler(handler);
    }
    assertEquals(1, warnings.size());
    assertTrue(warnings.get(0).contains(sat("cogvideox-2b-sft/500")) && warnings.get(0).contains("one checkpoint"),
        warnings.get(0));
  }

  @Test
  void emaIterationsAreCheckpointsOfTheirOwn(@TempDir Path root) throws IOException {
    Path run = root.resolve("group/sft");
    for (String iteration : List.of("1000", "1000-ema")) {
      Files.createDirectories(run.resolve(iteration));
      Files.copy(SAT.resolve("cogvideox-2b-sft/1000/mp_rank_00_model_states.pt"),
          run.resolve(iteration).resolve("mp_rank_00_model_states.pt"));
    }
    Files.writeString(run.resolve("latest"), "1000");

    List<CheckpointJob> all = JobExpander.expand(request(List.of(), List.of(root.toString()), IterationSelection.all()));
    assertEquals(List.of("/out/group/sft/1000", "/out/group/sft/1000-ema"), outputs(all));
    assertEquals(List.of(run.resolve("1000-ema/mp_rank_00_model_states.pt").toString()), all.get(1).files());

    List<CheckpointJob> ema = JobExpander.expand(request(List.of(run.toString()), List.of(), IterationSelection.parse("1000-ema")));
    assertEquals(List.of("/out"), outputs(ema));
    assertEquals("1000-ema", ema.get(0).iteration());
  }

  @Test
  void runsOfTheSameNameCollide(@TempDir Path root) throws IOException {
    for (String team : List.of("a", "b")) {
      Path iteration = root.resolve(team + "/sft/200");
      Files.createDirectories(iteration);
      Files.copy(SAT.resolve("cogvideox-5b-lora/200/mp_rank_00_model_states.pt"), iteration.resolve("mp_rank_00_model_states.pt"));
    }
    String a = root.resolve("a/sft").toString();
    String b = root.resolve("b/sft").toString();
    InvalidJobsException e = assertThrows(InvalidJobsException.class,
        () -> JobExpander.expand(request(List.of(a, b), List.of(), null)));
    assertEquals(List.of("two checkpoints would be written to /out/sft/200: " + a + " (iteration 200) and " + b
        + " (iteration 200) (give runs of the same name separate outputs, or use --source-root)"), e.problems());

    // below a common root their relative paths keep them apart
    assertEquals(List.of("/out/a/sft/200", "/out/b/sft/200"),
        outputs(JobExpander.expand(request(List.of(), List.of(root.toString()), null))));
  }

  @Test
  void everyMissingIterationAndBadSourceIsReportedAtOnce(@TempDir Path empty) {
    InvalidJobsException e = assertThrows(InvalidJobsException.class, () -> JobExpander.expand(
        request(List.of(sat("cogvideox-2b-sft"), empty.toString()), List.of(SAT.toString(), empty.toString()),
            IterationSelection.parse("500"))));
    List<String> problems = e.problems();
    assertEquals(5, problems.size(), problems.toString());
    assertEquals(sat("cogvideox-5b-i2v-release") + " has no iteration 500; iterations present: 1", problems.get(1));
    assertTrue(problems.get(0).startsWith(empty + " is not a SAT checkpoint"), problems.get(0));
    assertTrue(problems.get(4).startsWith("no SAT run below " + empty), problems.get(4));
    assertTrue(e.getMessage().contains("(5 problems)"), e.getMessage());
  }

  @Test
  void eachJobCarriesItsRunFolderAndThatFoldersModelConfig() throws IOException {
    List<CheckpointJob> jobs =
        JobExpander.expand(request(List.of(), List.of(SAT.toString()), IterationSelection.all()));

    assertEquals(
        List.of(sat("cogvideox-2b-sft"), sat("cogvideox-2b-sft"), sat("cogvideox-5b-i2v-release/transformer"),
            sat("cogvideox-5b-lora"), sat("cogvideox1.5-5b-i2v-lora")),
        jobs.stream().map(CheckpointJob::runFolder).toList());
    for (CheckpointJob job : jobs) {
      Path config = Path.of(job.runFolder(), "model_config.json");
      assertEquals(Files.exists(config) ? Files.readString(config) : null, job.runModelConfig(), job.id());
    }
    assertTrue(jobs.get(3).runModelConfig().contains("cogvideox-5b"), jobs.get(3).runModelConfig());
  }

  @Test
  void aModelConfigTooLargeToBeOneIsRefusedBeforeAnythingIsPlanned(@TempDir Path dir) throws IOException {
    Path run = TestPaths.copyTree(TestPaths.sat("cogvideox-5b-lora"), dir.resolve("run"));
    Files.writeString(run.resolve("model_config.json"), "{\"variant\": \"" + "x".repeat(1 << 20) + "\"}");

    InvalidJobsException e = assertThrows(InvalidJobsException.class,
        () -> JobExpander.expand(request(List.of(run.toString()), List.of(), null)));
    assertEquals(1, e.problems().size(), e.getMessage());
    assertTrue(e.problems().get(0).startsWith(run + "/model_config.json cannot be read: "), e.getMessage());
  }
}
