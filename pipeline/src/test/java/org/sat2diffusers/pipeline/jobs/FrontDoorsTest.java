package org.sat2diffusers.pipeline.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.transforms.convert.Weights;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.adapter.LoraMode;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.convert.UnknownKeys;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** The command line and a manifest job with the same options make the same jobs. */
class FrontDoorsTest {
  @TempDir Path dir;

  @Test
  void everyOptionMeansTheSameOnTheCommandLineAndInAManifest() throws IOException {
    Path run = TestPaths.copyTree(TestPaths.sat("cogvideox-5b-lora"), dir.resolve("runs/lora"));
    Path base = dir.resolve("base");
    Files.createDirectories(base.resolve("tokenizer"));
    Files.writeString(base.resolve("tokenizer/spiece.model"), "tokenizer");
    Files.writeString(base.resolve("model_index.json"), "{\"tokenizer\": [\"transformers\", \"T5Tokenizer\"]}");
    Files.writeString(dir.resolve("sat.yaml"), "model: {}\n");

    UnaryOperator<String> absolute = p -> Path.of(p).toAbsolutePath().normalize().toString();
    JobValues commandLine = commandLine(
        "--source", run.toString(), "--output", dir.resolve("out").toString(), "--iterations", "200",
        "--lora-alpha", "4", "--dtype", "bf16", "--vae-dtype", "fp16", "--model", "cogvideox-5b",
        "--sat-config", dir.resolve("sat.yaml").toString(), "--max-shard-size", "5GB",
        "--components", "transformer,vae", "--lora-mode", "both", "--lora-fold-scale", "--unknown-keys", "keep",
        "--base-pipeline", base.toString(), "--link", "--digest", "sha256", "--fail-on-nonfinite");
    List<CheckpointJob> fromCommandLine = JobExpander.expand(commandLine.request(absolute));
    JobManifest.Contents manifest = JobManifest.jobs("""
        - source: runs/lora
          output: out
          iterations: [200]
          lora_alpha: 4
          dtype: bf16
          vae_dtype: fp16
          model: cogvideox-5b
          sat_config: sat.yaml
          max_shard_size: 5GB
          components: transformer, vae
          lora_mode: both
          lora_fold_scale: true
          unknown_keys: keep
          base_pipeline: base
          link: yes
          digest: sha256
          fail_on_nonfinite: true
        """, "jobs.yaml", dir.toString());
    List<CheckpointJob> fromManifest = manifest.jobs();

    assertEquals(fromCommandLine, fromManifest);
    // the files both name besides the source, which no output may overwrite
    assertEquals(List.of(new NamedInput(dir.resolve("sat.yaml").toString(), "--sat-config"),
        new NamedInput(base.toString(), "--base-pipeline")), commandLine.inputs(JobOption::cliName, absolute));
    assertEquals(List.of(new NamedInput(dir.resolve("sat.yaml").toString(), "sat_config (job at line 1)"),
        new NamedInput(base.toString(), "base_pipeline (job at line 1)")), manifest.inputs());
    ConversionSettings s = fromManifest.get(0).settings();
    assertEquals(new ConversionSettings(4.0, Dtype.BF16, Dtype.F16, 5_000_000_000L, "cogvideox-5b", "model: {}\n",
        List.of(Component.TRANSFORMER, Component.VAE), UnknownKeys.KEEP, BasePipelines.read(base.toString(), true),
        LoraMode.BOTH, true, true, true, Digest.SHA256, Weights.MODULE), s);
    assertEquals(run.toString(), fromManifest.get(0).runFolder());
    assertEquals(Files.readString(run.resolve("model_config.json")), fromManifest.get(0).runModelConfig());
  }

  @Test
  void combinationsThatCannotWorkAreRefusedByBoth() {
    IllegalArgumentException badValue =
        assertThrows(IllegalArgumentException.class, () -> commandLine("--unknown-keys", "ignore"));
    assertEquals("--unknown-keys: unknown policy 'ignore' (expected fail, drop or keep)", badValue.getMessage());
    assertEquals(List.of("--link needs --base-pipeline", "--lora-fold-scale needs --lora-mode adapter or both"),
        commandLine("--link", "--lora-fold-scale").conflicts(JobOption::cliName, p -> p));

    InvalidJobsException e = assertThrows(InvalidJobsException.class, () -> JobManifest.parse("""
        - source: a
          output: b
          link: true
          lora_fold_scale: true
          unknown_keys: ignore
          check_finite: 1
        """, "jobs.yaml", "/base"));
    assertEquals(List.of(
        "line 5, unknown_keys: unknown policy 'ignore' (expected fail, drop or keep)",
        "line 6, check_finite: expected true or false, got a number (1)",
        "line 1: link needs base_pipeline",
        "line 1: lora_fold_scale needs lora_mode adapter or both"), e.problems());
  }

  @Test
  void aBasePipelineThatIsTheOutputIsRefused() {
    JobValues job = commandLine("--source", "a", "--output", "/x/out", "--base-pipeline", "/x/./out");
    List<String> conflicts = job.conflicts(JobOption::cliName, p -> Path.of(p).normalize().toString());
    assertTrue(conflicts.get(0).startsWith("--base-pipeline and --output name the same folder"), conflicts.toString());
  }

  /** The job values of {@code args}, parsed as {@code convert} parses them. */
  private static JobValues commandLine(String... args) {
    CommandSpec spec = new JobOptions.OnCommandLine().transform(CommandSpec.create());
    return JobOptions.fromCommandLine(new CommandLine(spec).parseArgs(args));
  }
}
