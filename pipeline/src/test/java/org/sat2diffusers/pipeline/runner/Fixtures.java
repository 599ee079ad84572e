package org.sat2diffusers.pipeline.runner;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.sat2diffusers.pipeline.testing.TestPaths;

/** The conversions the runner tests repeat on every runner, and the paths the build passes to the integration tests. */
final class Fixtures {
  private Fixtures() {}

  /** A fixture conversion: a name for folders and messages, and the convert arguments besides --output. */
  record Case(String name, List<String> args) {
    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * Every fixture run below testdata/sat, every iteration, in one run (issue 4's acceptance): five
   * checkpoints of four families, full fine-tune, LoRA, released layout, with and without T5; and a
   * transformer file with a VAE file of its own ({@code --vae}, issue 15).
   */
  static List<Case> cases() {
    Path components = TestPaths.testdata().resolve("training/components");
    return List.of(
        new Case("all-fixture-runs", List.of("--source-root", TestPaths.sat().toString(), "--iterations", "all")),
        new Case("transformer-and-separate-vae", List.of("--source", components.resolve("transformer.pt").toString(),
            "--vae", components.resolve("3d-vae.pt").toString())));
  }

  /**
   * Training outputs read as recipes (issue 15): a ZeRO-3 full fine-tune's and a ZeRO-2 LoRA run's fp32
   * masters (dp 6: padded partitions) in one run; SAT's z3_rank_* partitions of a LoRA run.
   */
  static List<Case> trainingOutputs() {
    Path training = TestPaths.testdata().resolve("training");
    return List.of(
        new Case("zero-fp32-masters", List.of("--source", training.resolve("deepspeed/z3-dp2-bf16-full").toString(),
            "--source", training.resolve("deepspeed/z2-dp6-bf16-lora").toString(), "--weights", "fp32-master",
            "--model", "cogvideox-2b")),
        new Case("sat-z3", List.of("--source", training.resolve("sat-z3/cogvideox1.5-5b-i2v-lora-z3dp2").toString())));
  }

  /** A path the build passes to the integration tests as a system property. */
  static Path buildPath(String property) {
    String value = System.getProperty(property);
    if (value == null || !Files.exists(Path.of(value))) {
      throw new IllegalStateException(
          "system property " + property + " = " + value + " names nothing: run this test with 'mvn verify'");
    }
    return Path.of(value);
  }
}
