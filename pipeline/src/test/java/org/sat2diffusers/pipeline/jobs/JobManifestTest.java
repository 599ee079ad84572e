package org.sat2diffusers.pipeline.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.adapter.LoraMode;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.records.Component;

class JobManifestTest {
  private static final String RESOURCES = "org/sat2diffusers/pipeline/jobs/";

  @Test
  void documentedExampleConvertsEveryFixtureWithItsOwnSettings(@TempDir Path dir) throws IOException {
    TestPaths.copyTree(TestPaths.sat(), dir.resolve("runs"));
    Files.writeString(dir.resolve("jobs.yaml"), resource("jobs.yaml"));
    Files.createDirectories(dir.resolve("configs"));
    String satConfig = resource("configs/cogvideox_5b_lora.yaml");
    Files.writeString(dir.resolve("configs/cogvideox_5b_lora.yaml"), satConfig);

    JobManifest.Contents manifest = JobManifest.read(dir.resolve("jobs.yaml").toString());
    List<CheckpointJob> jobs = manifest.jobs();

    String d = dir + "/";
    assertEquals(
        List.of(
            d + "converted/cogvideox-2b-sft/500",
            d + "converted/cogvideox-2b-sft/1000",
            d + "converted/cogvideox-5b-i2v-release/1",
            d + "converted/cogvideox-5b-lora/200",
            d + "converted/cogvideox1.5-5b-i2v-lora/300",
            d + "release/cogvideox-5b-lora",
            d + "compare/500",
            d + "compare/1000",
            d + "release/cogvideox1.5-5b-i2v-lora"),
        jobs.stream().map(CheckpointJob::outputDir).toList());
    assertEquals(List.of(d + "runs/cogvideox1.5-5b-i2v-lora/300/mp_rank_00_model_states.pt"), jobs.get(8).files());
    assertEquals(List.of(new NamedInput(d + "configs/cogvideox_5b_lora.yaml", "sat_config (job at line 12)")),
        manifest.inputs());

    ConversionSettings bf16 = new ConversionSettings(null, Dtype.BF16, null, 0, "auto", null, List.of());
    for (CheckpointJob job : jobs.subList(0, 5)) {
      assertEquals(bf16, job.settings(), job.id());
    }
    assertEquals(new ConversionSettings(null, null, null, 5_000_000_000L, "cogvideox-5b", satConfig,
        List.of(Component.TRANSFORMER)), jobs.get(5).settings());
    assertEquals(new ConversionSettings(null, null, Dtype.F32, 0, "auto", null, List.of()), jobs.get(6).settings());
    assertEquals(new ConversionSettings(1.0, null, null, 0, "auto", null, List.of())
        .withLoraExport(LoraMode.BOTH, false).withOutputChecks(true, false, Digest.CRC32C), jobs.get(8).settings());
  }

  @Test
  void exampleInTheDocsIsTheTestedOne() throws IOException {
    String docs = Files.readString(TestPaths.repoRoot().resolve("docs/manifest.md"));
    assertTrue(docs.contains("```yaml\n" + resource("jobs.yaml") + "```\n"), "docs/manifest.md and jobs.yaml differ");
  }

  @Test
  void everyFieldProblemIsReportedWithItsLine() {
    String yaml = """
        - source: a
          output: out
          dtype: bf17
          lora-alpha: 4
          lora_alpha: high
          model: cogvideox-7b
          components: [transformer, unet]
          max_shard_size: 10XB
          iterations: {a: 1}
          vae_dtype: 16
          dtype: fp16
        - output: out2
        - source: b
        - source: c
          source_root: d
          output: o
        - just a string
        - source: e
          output:
          iterations: 500,,
        """;
    InvalidJobsException e = assertThrows(InvalidJobsException.class, () -> JobManifest.parse(yaml, "jobs.yaml", "/base"));

    List<String> expectedStarts = List.of(
        "line 3, dtype: unknown dtype 'bf17' (expected keep, bf16, fp16, fp32)",
        "line 4: unknown field 'lora-alpha' (expected source, source_root, vae, output, iterations, lora_alpha, dtype,",
        "line 5, lora_alpha: expected a number, got 'high'",
        "line 6, model: unknown model 'cogvideox-7b' (expected auto|cogvideox-2b|",
        "line 7, components: unknown component 'unet'",
        "line 8, max_shard_size: cannot parse size '10XB'",
        "line 9, iterations: expected a single value, got a mapping",
        "line 10, vae_dtype: expected a name, got a number (16)",
        "line 11, dtype: given twice in one job",
        "line 12: job has no source (or source_root)",
        "line 13: job has no output",
        "line 14: give either source or source_root, not both",
        "line 17: expected a job (fields such as source: and output:), got 'just a string'",
        "line 19, output: expected a single value, got nothing",
        "line 20, iterations: iterations '500,,': expected latest, all, or iteration folder names");
    List<String> problems = e.problems();
    assertEquals(expectedStarts.size(), problems.size(), String.join("\n", problems));
    for (int i = 0; i < problems.size(); i++) {
      assertTrue(problems.get(i).startsWith(expectedStarts.get(i)), problems.get(i));
    }
    assertTrue(e.getMessage().startsWith("invalid manifest jobs.yaml, nothing converted (15 problems):\n  line 3"),
        e.getMessage());
  }

  @Test
  void invalidYamlNamesItsLine() {
    InvalidJobsException e = assertThrows(InvalidJobsException.class,
        () -> JobManifest.parse("- source: a\n  output: b\n- source: [c\n  output: d\n", "jobs.yaml", "/base"));
    assertTrue(e.problems().get(0).matches("line [34]: not valid YAML: .*"), e.problems().get(0));
  }

  @Test
  void manifestMustBeANonEmptyList() {
    InvalidJobsException mapping = assertThrows(InvalidJobsException.class,
        () -> JobManifest.parse("\n\nsource: a\noutput: b\n", "jobs.yaml", "/base"));
    assertEquals(List.of("line 3: expected a list of jobs (each '- source: ...' with its output), got a mapping"),
        mapping.problems());
    InvalidJobsException empty = assertThrows(InvalidJobsException.class,
        () -> JobManifest.parse("[]\n", "jobs.yaml", "/base"));
    assertEquals(List.of("line 1: no jobs listed"), empty.problems());
  }

  @Test
  void unreadableConfigAndBadSourcesAreReportedWithTheirLines(@TempDir Path dir) {
    String yaml = """
        - source: %s
          output: out/lora
          sat_config: configs/missing.yaml
        - source: %s
          iterations: [200, 900]
          output: out/sft
        - source_root: nothing-here
          output: out/none
        """.formatted(TestPaths.sat("cogvideox-5b-lora"), TestPaths.sat("cogvideox-2b-sft"));
    InvalidJobsException e = assertThrows(InvalidJobsException.class,
        () -> JobManifest.jobs(yaml, "jobs.yaml", dir.toString()));
    List<String> problems = e.problems();
    assertEquals(3, problems.size(), String.join("\n", problems));
    assertTrue(problems.get(0).startsWith("line 3, sat_config: ") && problems.get(0).contains("missing.yaml"),
        problems.get(0));
    assertEquals("line 4, source: " + TestPaths.sat("cogvideox-2b-sft")
        + " has no iteration 200, 900; iterations present: 500, 1000", problems.get(1));
    assertEquals("line 7, source_root: no SAT run below " + dir.resolve("nothing-here")
        + " (expected folders with 'latest', or with <iteration>/mp_rank_00_model_states.pt)"
        + " and no trainer output (folders with checkpoint-<step>/)", problems.get(2));
  }

  @Test
  void jobsOfDifferentEntriesMustNotShareAnOutput(@TempDir Path dir) {
    String yaml = """
        - source: %1$s
          output: out
          dtype: &cast bf16
        - source: %1$s
          output: ./out/
          dtype: *cast
        """.formatted(TestPaths.sat("cogvideox-5b-lora"));
    InvalidJobsException e = assertThrows(InvalidJobsException.class,
        () -> JobManifest.jobs(yaml, "jobs.yaml", dir.toString()));
    assertTrue(e.problems().get(0).startsWith("two checkpoints would be written to " + dir.resolve("out") + ": "),
        e.problems().get(0));
  }

  @Test
  void optionalFieldsDefaultAndAliasesResolve(@TempDir Path dir) throws IOException {
    String yaml = """
        - source: %1$s
          output: s3://bucket/converted
          vae_dtype: &cast fp16
          dtype: *cast
          components: transformer, vae
          iterations: 500
        - source: %1$s
          output: plain
          dtype: keep
        """.formatted(TestPaths.sat("cogvideox-2b-sft"));
    List<CheckpointJob> jobs = JobManifest.jobs(yaml, "jobs.yaml", dir.toString()).jobs();
    assertEquals(List.of("s3://bucket/converted", dir.resolve("plain").toString()),
        jobs.stream().map(CheckpointJob::outputDir).toList());
    assertEquals(new ConversionSettings(null, Dtype.F16, Dtype.F16, 0, "auto", null,
        List.of(Component.TRANSFORMER, Component.VAE)), jobs.get(0).settings());
    assertEquals("500", jobs.get(0).iteration());
    assertEquals(ConversionSettings.defaults(), jobs.get(1).settings());
    assertNull(jobs.get(1).settings().dtype());
    assertEquals("1000", jobs.get(1).iteration());
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = JobManifestTest.class.getClassLoader().getResourceAsStream(RESOURCES + name)) {
      if (in == null) {
        throw new IOException("test resource " + RESOURCES + name + " not found");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
