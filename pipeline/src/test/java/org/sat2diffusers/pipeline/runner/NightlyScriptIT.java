package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/** deploy/nightly/sat2diffusers-nightly.sh, run as cron or systemd would run it. */
class NightlyScriptIT {
  private static final Duration TIMEOUT = Duration.ofMinutes(3);
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Path script() {
    return Fixtures.buildPath("nightly.script");
  }

  @Test
  void convertsEverythingThenNothingAndLogsJsonLines(@TempDir Path work) throws Exception {
    Path log = work.resolve("log/nightly.log");
    Map<String, String> env = env(TestPaths.sat(), work.resolve("out"), log);

    assertEquals(0, run("first", env, work), Files.readString(log));
    for (String output : List.of("cogvideox-2b-sft/500", "cogvideox-2b-sft/1000", "cogvideox-5b-lora/200",
        "cogvideox-5b-i2v-release/1", "cogvideox1.5-5b-i2v-lora/300")) {
      assertTrue(Files.exists(work.resolve("out").resolve(output).resolve("_SUCCESS")), "no committed " + output);
    }
    long firstLines = Files.readAllLines(log).size();

    assertEquals(0, run("second", env, work), Files.readString(log));
    List<String> secondRun = Files.readAllLines(log).subList((int) firstLines, Files.readAllLines(log).size());
    assertTrue(secondRun.stream().anyMatch(l -> l.contains("0 of 5 checkpoint(s) converted, 5 up to date")),
        String.join("\n", secondRun));
    for (String line : Files.readAllLines(log)) {
      assertTrue(JSON.readTree(line).has("message"), "not a JSON log line: " + line);
    }
  }

  @Test
  void aFailedRunExitsNonZero(@TempDir Path work) throws Exception {
    Path log = work.resolve("nightly.log");
    Map<String, String> env = env(work.resolve("no-such-root"), work.resolve("out"), log);
    assertNotEquals(0, run("failing", env, work), Files.readString(log));
    assertTrue(Files.readString(log).contains("no-such-root"), Files.readString(log));
  }

  @Test
  void aSecondRunDoesNotOverlapARunningOne(@TempDir Path work) throws Exception {
    Path log = work.resolve("nightly.log");
    Map<String, String> env = env(TestPaths.sat(), work.resolve("out"), log);
    try (ChildProcess first = ChildProcess.start("first", List.of(script().toString()), env, work)) {
      Thread.sleep(500); // the first holds the lock for the seconds its conversion takes
      assertEquals(75, run("overlapping", env, work), Files.readString(log));
      assertEquals(0, first.awaitExit(TIMEOUT), Files.readString(log));
    }
    assertTrue(Files.readString(log).contains("still going"), Files.readString(log));
  }

  private static Map<String, String> env(Path root, Path out, Path log) {
    return Map.of("SAT2D_JAR", ExecutableJar.path().toString(), "SAT2D_ROOT", root.toString(),
        "SAT2D_OUTPUT", out.toString(), "SAT2D_LOG", log.toString(), "SAT2D_JAVA", ChildProcess.java());
  }

  private static int run(String name, Map<String, String> env, Path work) throws Exception {
    try (ChildProcess run = ChildProcess.start(name, List.of(script().toString()), env, work)) {
      return run.awaitExit(TIMEOUT);
    }
  }
}
