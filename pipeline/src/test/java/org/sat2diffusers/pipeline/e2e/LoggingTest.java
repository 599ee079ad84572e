package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.records.Component;

/**
 * Issue 9, logs a person and a log system can both read: with {@code --log-format json} every line
 * on standard error is a JSON object with time, level and message; the human format shows messages,
 * never stack traces; {@code --verbose} adds a line per written tensor.
 */
class LoggingTest {
  private static final FixtureConversion FIXTURE = FixtureConversion.V15_I2V_LORA;
  private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  @TempDir static Path work;
  private static CliRun human;
  private static CliRun verbose;
  private static CliRun json;

  @BeforeAll
  static void convert() {
    human = CliRun.run(FIXTURE.arguments(work.resolve("human"))).assertSucceeded();
    verbose = CliRun.run(with(FIXTURE.arguments(work.resolve("verbose")), "--verbose")).assertSucceeded();
    json = CliRun.run(with(FIXTURE.arguments(work.resolve("json")), "--log-format", "json", "--verbose")).assertSucceeded();
  }

  @Test
  void jsonFormatWritesOnlyJsonObjectsWithTimeLevelAndMessage() throws IOException {
    assertJsonLines(json);
  }

  @Test
  void jsonFormatReportsARefusedInputAsASevereJsonLine() throws IOException {
    Path notCheckpoint = Files.createDirectories(work.resolve("not-a-checkpoint"));
    CliRun run = CliRun.run("convert", "--source", notCheckpoint, "--output", work.resolve("refused"), "--log-format", "json");
    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), run.err());
    List<JsonNode> lines = assertJsonLines(run);
    assertTrue(lines.stream().anyMatch(l -> l.path("level").asText().equals("SEVERE")
        && l.path("message").asText().contains(notCheckpoint.toString())), "no SEVERE line names " + notCheckpoint + ":\n" + run.err());
  }

  @Test
  void humanFormatShowsMessagesNotJsonNorStackTraces() {
    for (CliRun run : List.of(human, verbose)) {
      assertFalse(run.err().isBlank(), "nothing logged by " + run.command());
      run.assertNoStackTrace();
      assertTrue(run.err().lines().noneMatch(l -> l.startsWith("{")), "JSON lines in the human format:\n" + run.err());
    }
  }

  @Test
  void humanFormatShowsARefusalWithoutAStackTrace() throws IOException {
    Path truncated = work.resolve("truncated.pt");
    byte[] bytes = Files.readAllBytes(TestPaths.sat(FIXTURE.source).resolve(FIXTURE.iteration).resolve("mp_rank_00_model_states.pt"));
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 100));
    CliRun run = CliRun.run("convert", "--source", truncated, "--output", work.resolve("refused-human"));
    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), run.err());
    assertTrue(run.err().lines().anyMatch(l -> l.startsWith("error: ") && l.contains(truncated.toString())),
        "no 'error: ' line names " + truncated + ":\n" + run.err());
    run.assertNoStackTrace();
  }

  /** --verbose adds a line for every tensor written (in both formats); the default log stays short. */
  @Test
  void verboseAddsALinePerTensor() throws IOException {
    List<String> jsonMessages = new ArrayList<>();
    for (JsonNode line : assertJsonLines(json)) {
      jsonMessages.add(line.path("message").asText());
    }
    int tensors = 0;
    for (Path manifest : FIXTURE.manifests()) {
      for (Component c : ExpectedTensors.components(manifest)) {
        for (String name : (Iterable<String>) () -> TestData.json(manifest).get(c.folder()).fieldNames()) {
          Pattern line = Pattern.compile("(^|\\s)" + Pattern.quote(name) + "(\\s|$)");
          assertTrue(verbose.err().lines().anyMatch(l -> line.matcher(l).find()), "--verbose: no line for " + name);
          assertTrue(jsonMessages.stream().anyMatch(m -> m.lines().anyMatch(l -> line.matcher(l).find())),
              "--verbose --log-format json: no line for " + name);
          tensors++;
        }
      }
    }
    long added = verbose.err().lines().count() - human.err().lines().count();
    assertTrue(added >= tensors, "--verbose adds " + added + " lines for " + tensors + " tensors");
    assertTrue(human.err().lines().count() < tensors, "the default log is not concise:\n" + human.err());
  }

  /** Parses every line of standard error as a JSON object with a time, a level and a message. */
  private static List<JsonNode> assertJsonLines(CliRun run) throws IOException {
    List<JsonNode> parsed = new ArrayList<>();
    for (String line : run.err().split("\\R")) {
      if (line.isEmpty()) {
        continue;
      }
      JsonNode node;
      try {
        node = JSON.readTree(line);
      } catch (IOException e) {
        throw new AssertionError("not a JSON line on the stderr of " + run.command() + ": " + line, e);
      }
      assertTrue(node != null && node.isObject(), "not a JSON object: " + line);
      for (String field : List.of("time", "level", "message")) {
        assertTrue(node.path(field).isTextual() && !node.path(field).asText().isEmpty(), "no " + field + " in " + line);
      }
      Instant.parse(node.get("time").asText());
      parsed.add(node);
    }
    assertFalse(parsed.isEmpty(), "nothing logged by " + run.command());
    return parsed;
  }

  private static Object[] with(Object[] arguments, Object... more) {
    List<Object> all = new ArrayList<>(Arrays.asList(arguments));
    all.addAll(Arrays.asList(more));
    return all.toArray();
  }
}
