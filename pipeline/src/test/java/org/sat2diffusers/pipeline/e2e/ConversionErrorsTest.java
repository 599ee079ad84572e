package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.pipeline.testing.TestPaths;

/** Invalid inputs refused before any write: exit code 3, a message naming the path and the problem, nothing that looks complete. */
class ConversionErrorsTest {
  @TempDir Path work;

  static Stream<Arguments> failures() {
    Path missing = TestPaths.sat("no-such-checkpoint");
    Path notCheckpoint = TestPaths.expected("cogvideox-2b-sft");
    Path v15 = TestPaths.sat("cogvideox1.5-5b-i2v-lora");
    return Stream.of(
        Arguments.of(Named.of("nonexistent source", List.of("--source", missing)), List.of(missing.toString())),
        Arguments.of(Named.of("folder that is not a checkpoint", List.of("--source", notCheckpoint)),
            List.of(notCheckpoint.toString(), "not a SAT checkpoint")),
        Arguments.of(Named.of("--model that the tensors contradict", List.of("--source", v15, "--model", "cogvideox-2b")),
            List.of(v15.toString(), "cogvideox-2b", "patch_embed.proj.weight")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("failures")
  void failsClearlyAndCommitsNothing(List<Object> options, List<String> messageNames) throws IOException {
    refusedBeforeWriting(options, messageNames);
  }

  /** The 5B LoRA fixture's tensors cannot tell rotary from sincos; without its run's model_config.json it stops. */
  @Test
  void asksForTheModelWhenNeitherTensorsNorTheRunTellIt() throws IOException {
    Path alone = work.resolve("alone/mp_rank_00_model_states.pt");
    Files.createDirectories(alone.getParent());
    Files.copy(TestPaths.sat("cogvideox-5b-lora/200/mp_rank_00_model_states.pt"), alone);
    refusedBeforeWriting(List.of("--source", alone), List.of(alone.toString(), "--model", "--sat-config"));
  }

  private void refusedBeforeWriting(List<Object> options, List<String> messageNames) throws IOException {
    Path out = work.resolve("out");
    List<Object> args = new ArrayList<>(List.of("convert", "--output", out));
    args.addAll(options);
    CliRun run = CliRun.run(args.toArray());

    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), "exit code of " + run.command() + "\nstderr:\n" + run.err());
    for (String name : messageNames) {
      assertTrue(run.err().contains(name), "stderr does not name " + name + ":\n" + run.err());
    }
    run.assertNoStackTrace();
    if (Files.exists(out)) {
      try (Stream<Path> files = Files.walk(out)) {
        List<String> written = files.map(p -> out.relativize(p).toString())
            .filter(p -> p.endsWith("_SUCCESS") || p.endsWith(".safetensors")).toList();
        assertEquals(List.of(), written, "files of a failed conversion in " + out);
      }
    }
  }
}
