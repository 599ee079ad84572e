package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 9: each documented exit code, provoked. 0 converted or up to date, 1 a failure while
 * writing (nothing committed), 2 a usage error (nothing done), 3 invalid input refused before any
 * write; and the meanings are documented in {@code convert --help} and the README. Errors are
 * messages, never Java stack traces.
 */
class ExitCodesTest {
  /** What each code must be documented as (issue 9): phrases its description must contain. */
  private static final Map<Integer, List<String>> MEANINGS = Map.of(
      ExitCodes.OK, List.of("converted", "up to date"),
      ExitCodes.FAILED, List.of("failed"),
      ExitCodes.USAGE, List.of("usage"),
      ExitCodes.INVALID_INPUT, List.of("invalid input"));
  private static final FixtureConversion SMALL = FixtureConversion.V15_I2V_LORA;

  @TempDir Path work;

  @Test
  void zeroForAConversionAndForARunThatFindsItUpToDate() {
    Path out = work.resolve("out");
    CliRun first = CliRun.run(SMALL.arguments(out));
    assertEquals(ExitCodes.OK, first.exitCode(), first.err());
    String committed = OutputFolders.committedAt(out);

    CliRun second = CliRun.run(SMALL.arguments(out));
    assertEquals(ExitCodes.OK, second.exitCode(), second.err());
    assertTrue(second.out().contains("up to date"), "the second run does not say up to date:\n" + second.out());
    assertEquals(committed, OutputFolders.committedAt(out), "_SUCCESS rewritten by a run that found it up to date");
  }

  static Stream<Arguments> writeFailures() {
    return Stream.of(
        Arguments.of(Named.of("--output under a regular file", "file/out"), "file"),
        Arguments.of(Named.of("a component folder that is a regular file", "out"), "out/transformer"));
  }

  /** The output is set up so that writing (shards, or moving them into place) fails. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("writeFailures")
  void oneForAFailureWhileWriting(String output, String regularFile) throws IOException {
    Path blocker = work.resolve(regularFile);
    Files.createDirectories(blocker.getParent());
    Files.writeString(blocker, "not a folder\n");
    Path out = work.resolve(output);

    CliRun run = CliRun.run(SMALL.arguments(out));

    assertEquals(ExitCodes.FAILED, run.exitCode(), "exit code of " + run.command() + "\nstderr:\n" + run.err());
    assertTrue(run.err().contains(TestPaths.sat(SMALL.source).toString()), "stderr names no checkpoint:\n" + run.err());
    assertTrue(run.err().contains(blocker.toString()), "stderr names no path that failed:\n" + run.err());
    run.assertNoStackTrace();
    assertEquals(List.of(), OutputFolders.committedFiles(out), "committed files after a failed write");
  }

  static Stream<Arguments> usageErrors() {
    Path source = TestPaths.sat(SMALL.source);
    return Stream.of(
        usage("unknown option", "--frobnicate", "--source", source, "--frobnicate"),
        usage("missing --source", "--source"),
        usage("bad --dtype", "fp8", "--source", source, "--dtype", "fp8"),
        usage("bad --vae-dtype", "int4", "--source", source, "--vae-dtype", "int4"),
        usage("bad --max-shard-size", "12XB", "--source", source, "--max-shard-size", "12XB"),
        usage("--plan-json without --dry-run", "--plan-json", "--source", source, "--plan-json", "plan.json"),
        usage("unknown --model", "cogvideox-9b", "--source", source, "--model", "cogvideox-9b"),
        usage("unknown --log-format", "xml", "--source", source, "--log-format", "xml"));
  }

  private static Arguments usage(String name, String named, Object... options) {
    return Arguments.of(Named.of(name, List.of(options)), named);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("usageErrors")
  void twoForAUsageError(List<Object> options, String named) {
    Path out = work.resolve("out");
    CliRun run = convert(out, options);
    assertEquals(ExitCodes.USAGE, run.exitCode(), "exit code of " + run.command() + "\nstderr:\n" + run.err());
    assertTrue(run.err().contains(named), "stderr does not name " + named + ":\n" + run.err());
    run.assertNoStackTrace();
    assertTrue(Files.notExists(out), out + " exists after a usage error");
  }

  static Stream<Arguments> invalidInputs() {
    return Stream.of(
        Arguments.of(Named.of("conversion", List.of())),
        Arguments.of(Named.of("dry run", List.of("--dry-run"))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidInputs")
  void threeForATruncatedCheckpoint(List<Object> options) throws IOException {
    byte[] bytes = Files.readAllBytes(rankFile(SMALL));
    Path truncated = work.resolve("truncated.pt");
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
    assertInvalidInput(truncated, options);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidInputs")
  void threeForAFolderThatIsNoCheckpoint(List<Object> options) throws IOException {
    Path folder = Files.createDirectories(work.resolve("notes"));
    Files.writeString(folder.resolve("readme.txt"), "not a checkpoint\n");
    assertInvalidInput(folder, options);
  }

  private void assertInvalidInput(Path source, List<Object> options) throws IOException {
    Path out = work.resolve("out");
    List<Object> all = new ArrayList<>(List.of("--source", source));
    all.addAll(options);
    CliRun run = convert(out, all);
    assertEquals(ExitCodes.INVALID_INPUT, run.exitCode(), "exit code of " + run.command() + "\nstderr:\n" + run.err());
    assertTrue(run.err().contains(source.toString()), "stderr does not name " + source + ":\n" + run.err());
    run.assertNoStackTrace();
    assertTrue(Files.notExists(out), out + " exists after its input was refused: " + OutputFolders.entries(out));
  }

  @Test
  void helpDocumentsEveryExitCode() {
    CliRun help = CliRun.run("convert", "--help");
    assertEquals(ExitCodes.OK, help.exitCode(), help.err());
    String text = help.out().replaceAll("\\s+", " ");
    int at = text.indexOf("Exit codes:");
    assertTrue(at >= 0, "convert --help has no 'Exit codes:' section:\n" + help.out());
    assertDocumented("convert --help", List.of(text.substring(at + "Exit codes:".length()).split(";")));
  }

  @Test
  void readmeDocumentsEveryExitCode() throws IOException {
    Path readme = TestPaths.testdata().getParent().resolve("README.md");
    assertDocumented(readme.toString(), Files.readAllLines(readme));
  }

  /** Each code has a clause (a line, or a part of the help) that starts with it and says what it means. */
  private static void assertDocumented(String where, List<String> clauses) {
    Map<Integer, List<String>> undocumented = new TreeMap<>();
    MEANINGS.forEach((code, phrases) -> {
      Pattern startsWithCode = Pattern.compile("^\\W*" + code + "\\b");
      if (clauses.stream().noneMatch(clause -> startsWithCode.matcher(clause).find()
          && phrases.stream().allMatch(p -> clause.toLowerCase().contains(p)))) {
        undocumented.put(code, phrases);
      }
    });
    assertEquals(Map.of(), undocumented, where + ": exit codes not documented with these words");
  }

  private static Path rankFile(FixtureConversion conversion) {
    return TestPaths.sat(conversion.source).resolve(conversion.iteration).resolve("mp_rank_00_model_states.pt");
  }

  private static CliRun convert(Path out, List<Object> options) {
    List<Object> args = new ArrayList<>(List.of("convert", "--output", out));
    args.addAll(options);
    return CliRun.run(args.toArray());
  }
}
