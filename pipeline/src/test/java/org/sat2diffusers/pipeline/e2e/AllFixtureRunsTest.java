package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * One run over every fixture run with --iterations all (issue 4): each checkpoint lands in
 * OUT/run/iteration and conforms. The runner tests show Spark writes the same bytes.
 */
class AllFixtureRunsTest {
  /** Output folder below OUT, and the expectation it must meet. */
  private static final Map<String, List<String>> EXPECTED = Map.of(
      "cogvideox-2b-sft/500", List.of("cogvideox-2b-sft/500.json"),
      "cogvideox-2b-sft/1000", List.of("cogvideox-2b-sft/1000.json"),
      "cogvideox-5b-lora/200", List.of("cogvideox-5b-lora/200.alpha1.json"),
      "cogvideox-5b-i2v-release/1",
          List.of("cogvideox-5b-i2v-release/transformer.json", "cogvideox-5b-i2v-release/vae.json"),
      "cogvideox1.5-5b-i2v-lora/300", List.of("cogvideox1.5-5b-i2v-lora/300.alpha1.json"));

  @TempDir static Path out;

  @BeforeAll
  static void convertAll() {
    CliRun run = CliRun.run("convert", "--source-root", TestPaths.sat(), "--iterations", "all",
        "--output", out);
    assertEquals(0, run.exitCode(), run.err());
  }

  static List<String> outputs() {
    return EXPECTED.keySet().stream().sorted().toList();
  }

  @ParameterizedTest
  @MethodSource("outputs")
  void everyCheckpointConforms(String output) throws IOException {
    for (String expected : EXPECTED.get(output)) {
      assertEquals(List.of(), ExpectedTensors.mismatches(out.resolve(output), TestPaths.expected(expected)),
          output + " against " + expected);
    }
  }
}
