package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 18: what can be known before writing is refused before writing, by the dry run and the
 * conversion alike (exit code 3, naming the file or tensor): a tensor that would be called
 * {@code __metadata__}, a run's {@code model_config.json} over 1 MiB. Nothing is written.
 */
class PlanTimeChecksTest {
  @TempDir Path work;

  @Test
  void aTensorNamedLikeTheHeaderMetadataIsRefusedAtPlanTime() throws IOException {
    Path run = TestPaths.copyTree(TestPaths.testdata().resolve("edge/reserved-tensor-name"), work.resolve("run"));
    assertRefused(run, "transformer tensor '__metadata__' (from model.diffusion_model.__metadata__)",
        "--unknown-keys", "keep");
  }

  @Test
  void aModelConfigOverOneMebibyteIsRefusedAtPlanTime() throws IOException {
    Path run = TestPaths.copyTree(TestPaths.sat("cogvideox-5b-lora"), work.resolve("run"));
    Path config = run.resolve("model_config.json");
    Files.writeString(config, "{\"variant\": \"cogvideox-5b\"}" + " ".repeat(1 << 20));
    assertRefused(run, config + " is larger than the 1048576 bytes");
  }

  private void assertRefused(Path run, String named, String... options) throws IOException {
    Map<String, String> sources = TreeSnapshot.of(run);
    for (boolean dry : new boolean[] {true, false}) {
      Path out = work.resolve(dry ? "dry" : "out");
      java.util.List<Object> args = new java.util.ArrayList<>(java.util.List.of("convert", "--source", run, "--output", out));
      args.addAll(java.util.List.of(options));
      if (dry) {
        args.add("--dry-run");
      }
      CliRun r = CliRun.run(args.toArray());
      assertEquals(ExitCodes.INVALID_INPUT, r.exitCode(), r.command() + "\n" + r.out() + r.err());
      assertTrue((r.out() + r.err()).contains(named), "expected '" + named + "' in:\n" + r.out() + r.err());
      assertFalse(Files.exists(out), out + " was created: " + TreeSnapshot.of(out).keySet());
    }
    assertEquals(sources, TreeSnapshot.of(run), "the source, byte for byte");
  }
}
