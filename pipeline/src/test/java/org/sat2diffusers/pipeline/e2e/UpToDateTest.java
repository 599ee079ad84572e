package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.sat2diffusers.pipeline.jobs.JobOption;
import org.sat2diffusers.pipeline.jobs.JobOptions;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * The commit marker's identity covers everything the output's bytes and report depend on: a second
 * run with one per-checkpoint option changed, or with the SAT config, the run's model_config.json or
 * a base pipeline file changed in place, converts again; the same run unchanged is skipped. Each
 * change gets its own copies of the source run, the SAT config and the base pipeline.
 */
class UpToDateTest {
  private static final Path FIXTURE = TestPaths.sat("cogvideox-5b-lora");
  /** The fixture's training YAML, as SAT would have saved it (it tells the family: rotary positions). */
  private static final String SAT_CONFIG = """
      model:
        scale_factor: 0.7
        network_config:
          target: dit_video_concat.DiffusionTransformer
          params:
            time_embed_dim: 8
            num_frames: 5
            time_compressed_rate: 4
            latent_width: 4
            latent_height: 4
            num_layers: 3
            patch_size: 2
            in_channels: 4
            out_channels: 4
            hidden_size: 16
            num_attention_heads: 2
            modules:
              pos_embed_config:
                target: dit_video_concat.Rotary3DPositionEmbeddingMixin
                params:
                  hidden_size_head: 8
                  text_length: 3
              lora_config:
                target: sat.model.finetune.lora2.LoraMixin
                params:
                  r: 4
                  lora_alpha: 4
      """;

  @TempDir static Path work;
  private static Path base;

  /** One change from the first run's options or inputs, and the option it concerns (null for a file's content). */
  enum Change {
    LORA_ALPHA(JobOptions.LORA_ALPHA, c -> c.options.put("--lora-alpha", "2")),
    DTYPE(JobOptions.DTYPE, c -> c.options.put("--dtype", "bf16")),
    VAE_DTYPE(JobOptions.VAE_DTYPE, c -> c.options.put("--vae-dtype", "fp16")),
    MAX_SHARD_SIZE(JobOptions.MAX_SHARD_SIZE, c -> c.options.put("--max-shard-size", "50KB")),
    MODEL(JobOptions.MODEL, c -> c.options.put("--model", "cogvideox-5b")),
    NO_SAT_CONFIG(JobOptions.SAT_CONFIG, c -> c.options.remove("--sat-config")),
    COMPONENTS(JobOptions.COMPONENTS, c -> c.options.put("--components", "transformer")),
    LORA_MODE(JobOptions.LORA_MODE, c -> c.options.put("--lora-mode", "adapter")),
    LORA_FOLD_SCALE(JobOptions.LORA_FOLD_SCALE, c -> c.options.put("--lora-fold-scale", null)),
    UNKNOWN_KEYS(JobOptions.UNKNOWN_KEYS, c -> c.options.put("--unknown-keys", "drop")),
    BASE_PIPELINE_FOLDER(JobOptions.BASE_PIPELINE, c -> c.options.put("--base-pipeline",
        c.copy(c.dir.resolve("base"), c.dir.resolve("other-base")))),
    LINK(JobOptions.LINK, c -> c.options.put("--link", null)),
    VAE(JobOptions.VAE, c -> c.options.put("--vae",
        c.copy(TestPaths.testdata().resolve("training/components/3d-vae.pt"), c.dir.resolve("3d-vae.pt")))),
    DIGEST(JobOptions.DIGEST, c -> c.options.put("--digest", "sha256")),
    CHECK_FINITE(JobOptions.CHECK_FINITE, c -> c.options.remove("--check-finite")),
    FAIL_ON_NONFINITE(JobOptions.FAIL_ON_NONFINITE, c -> c.options.put("--fail-on-nonfinite", null)),
    SAT_CONFIG_CONTENT(null, c -> c.write("sat.yaml", SAT_CONFIG.replace("lora_alpha: 4", "lora_alpha: 8"))),
    RUN_MODEL_CONFIG(null, c -> c.write("run/model_config.json", "{\"variant\": \"cogvideox-5b\", \"step\": 1}")),
    BASE_PIPELINE_FILE(null, c -> c.write("base/tokenizer/spiece.model", "other tokenizer"));

    final JobOption option;
    final Consumer<Case> apply;

    Change(JobOption option, Consumer<Case> apply) {
      this.option = option;
      this.apply = apply;
    }
  }

  /** A base pipeline: the fixture's own conversion plus a tokenizer, as a user's base model would have. */
  @BeforeAll
  static void makeTheBase() throws IOException {
    base = work.resolve("base");
    CliRun.run("convert", "--source", FIXTURE, "--output", base).assertSucceeded();
    Files.createDirectories(base.resolve("tokenizer"));
    Files.writeString(base.resolve("tokenizer/spiece.model"), "tokenizer");
    ObjectMapper json = new ObjectMapper();
    ObjectNode index = (ObjectNode) TestData.json(base.resolve("model_index.json"));
    index.putArray("tokenizer").add("transformers").add("T5Tokenizer");
    Files.writeString(base.resolve("model_index.json"), json.writeValueAsString(index));
  }

  @ParameterizedTest
  @EnumSource(Change.class)
  void aChangedOptionOrInputConvertsAgainAndAnUnchangedRunIsSkipped(Change change) throws IOException {
    Case c = new Case(work.resolve(change.name().toLowerCase()));
    assertConverted(c.convert(), "first run");
    assertSkipped(c.convert(), "the same run again");

    change.apply.accept(c);
    assertConverted(c.convert(), "after " + change);
    assertSkipped(c.convert(), "after " + change + ", again");
  }

  @Test
  void everyPerCheckpointOptionIsChangedAbove() {
    Set<String> whereTheJobsGo = Set.of("source", "source_root", "max_depth", "output", "iterations");
    // weights needs a ZeRO checkpoint, which this run is not: ZeroConversionTest changes it on one
    Set<String> elsewhere = Set.of("weights");
    Set<String> options = JobOptions.ALL.stream().map(JobOption::field)
        .filter(f -> !whereTheJobsGo.contains(f) && !elsewhere.contains(f))
        .collect(Collectors.toCollection(TreeSet::new));
    Set<String> changed = Arrays.stream(Change.values()).map(c -> c.option).filter(Objects::nonNull)
        .map(JobOption::field).collect(Collectors.toCollection(TreeSet::new));
    assertEquals(options, changed);
  }

  private static void assertConverted(CliRun run, String what) {
    run.assertSucceeded();
    assertTrue(run.out().contains("1 of 1 checkpoint(s) converted"), what + ":\n" + run.out());
  }

  private static void assertSkipped(CliRun run, String what) {
    run.assertSucceeded();
    assertTrue(run.out().contains("up to date"), what + ":\n" + run.out());
  }

  /** One change's folder: its copies of the run, the SAT config and the base, and the options of its runs. */
  static final class Case {
    final Path dir;
    final Map<String, String> options = new LinkedHashMap<>();

    Case(Path dir) throws IOException {
      this.dir = dir;
      options.put("--source", copy(FIXTURE, dir.resolve("run")));
      options.put("--output", dir.resolve("out").toString());
      options.put("--sat-config", write("sat.yaml", SAT_CONFIG));
      options.put("--base-pipeline", copy(base, dir.resolve("base")));
      options.put("--lora-mode", "both");
      options.put("--check-finite", null);
    }

    CliRun convert() {
      List<Object> args = new ArrayList<>(List.of("convert"));
      options.forEach((option, value) -> {
        args.add(option);
        if (value != null) {
          args.add(value);
        }
      });
      return CliRun.run(args.toArray());
    }

    String write(String relative, String text) {
      try {
        Files.writeString(dir.resolve(relative), text);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      return dir.resolve(relative).toString();
    }

    String copy(Path from, Path to) {
      try {
        return TestPaths.copyTree(from, to).toString();
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }
  }
}
