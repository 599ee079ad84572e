package org.sat2diffusers.pipeline.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.pipeline.Main;
import org.sat2diffusers.pipeline.testing.TestPaths;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * docs/manifest.md, {@code convert --help} and the manifest reader say the same, because all three
 * come from {@link JobOptions}: the doc's field table is the declarations, row for row and word for
 * word, and every other option of {@code convert} is listed in the doc as run-wide.
 */
class JobOptionsDocsTest {
  private static final Pattern OPTION_IN_BACKTICKS = Pattern.compile("`(--[a-z0-9-]+)`");

  @Test
  void fieldTableOfTheDocsIsTheDeclarations() throws IOException {
    String expected = fieldTable();
    String docs = docs();
    assertTrue(docs.contains("\n" + expected + "\n"),
        "docs/manifest.md's field table differs from JobOptions; it should read:\n" + expected + "\nnot:\n"
            + section(docs, "## Fields"));
  }

  @Test
  void everyJobOptionIsAConvertOptionWithTheSameHelp() {
    CommandSpec convert = convert();
    for (JobOption o : JobOptions.ALL) {
      OptionSpec option = convert.findOption(o.cliName());
      assertTrue(option != null, o.cliName() + " is not an option of convert");
      assertEquals(o.help(), String.join(" ", option.description()), o.cliName());
    }
    String range = JobOptions.ALL.get(0).cliName() + " to " + JobOptions.ALL.get(JobOptions.ALL.size() - 1).cliName();
    assertTrue(String.join(" ", convert.usageMessage().description()).contains("The options from " + range),
        "convert's help names the job options as " + range);
  }

  @Test
  void everyOtherConvertOptionIsListedAsRunWide() throws IOException {
    Set<String> jobOptions = JobOptions.ALL.stream().map(JobOption::cliName).collect(Collectors.toSet());
    Set<String> runWide = new TreeSet<>();
    for (OptionSpec option : convert().options()) {
      if (!jobOptions.contains(option.longestName()) && !option.usageHelp() && !option.versionHelp()) {
        runWide.add(option.longestName());
      }
    }
    Set<String> documented = new TreeSet<>();
    Matcher m = OPTION_IN_BACKTICKS.matcher(section(docs(), "## Options of the whole run"));
    while (m.find()) {
      documented.add(m.group(1));
    }
    assertEquals(runWide, documented, "the run-wide options of convert and those docs/manifest.md lists");
  }

  @Test
  void everyFieldIsReadByTheManifest() throws IOException {
    List<String> problems = new ArrayList<>();
    for (JobOption o : JobOptions.ALL) {
      String yaml = "- source: a\n  output: b\n  " + o.field() + ": " + sample(o) + "\n";
      if (o == JobOptions.SOURCE || o == JobOptions.OUTPUT) {
        yaml = "- source: a\n  output: b\n";
      } else if (o == JobOptions.SOURCE_ROOT) {
        yaml = "- source_root: a\n  output: b\n";
      } else if (o == JobOptions.LINK) {
        yaml = "- source: a\n  output: b\n  base_pipeline: c\n  link: true\n";
      } else if (o == JobOptions.LORA_FOLD_SCALE) {
        yaml = "- source: a\n  output: b\n  lora_mode: both\n  lora_fold_scale: true\n";
      }
      try {
        JobManifest.parse(yaml, "jobs.yaml", "/base");
      } catch (InvalidJobsException e) {
        problems.add(o.field() + ": " + e.getMessage());
      }
    }
    assertEquals(List.of(), problems);
  }

  /** A value each kind accepts. */
  private static String sample(JobOption o) {
    return switch (o.kind()) {
      case FLAG -> "true";
      case NUMBER -> "2";
      case NAME -> o.label().contains("|") ? o.label().substring(o.label().lastIndexOf('|') + 1) : "cogvideox-2b";
      case VALUE -> "5GB";
      case PATH, PATHS -> "some/path";
      case LIST -> o == JobOptions.COMPONENTS ? "[transformer]" : "[500]";
    };
  }

  /** The field table as docs/manifest.md must have it. */
  static String fieldTable() {
    StringBuilder table = new StringBuilder("| field | option | value | default | what it does |\n|---|---|---|---|---|\n");
    for (JobOption o : JobOptions.ALL) {
      String value = switch (o.kind()) {
        case FLAG -> "`true` or `false`";
        case LIST -> "`" + o.label() + "`s, as a list or comma-separated";
        default -> "`" + o.label() + "`";
      };
      table.append("| `").append(o.field()).append("` | `").append(o.cliName()).append("` | ")
          .append(cell(value)).append(" | ").append(cell(o.defaultText())).append(" | ")
          .append(cell(o.description())).append(" |\n");
    }
    return table.toString();
  }

  private static String cell(String text) {
    return text.replace("|", "\\|");
  }

  private static CommandSpec convert() {
    return new CommandLine(new Main()).getSubcommands().get("convert").getCommandSpec();
  }

  private static String docs() throws IOException {
    return Files.readString(TestPaths.repoRoot().resolve("docs/manifest.md"));
  }

  /** The text from {@code heading} to the next heading of the same level. */
  private static String section(String docs, String heading) {
    int start = docs.indexOf("\n" + heading + "\n");
    assertTrue(start >= 0, "docs/manifest.md has no section " + heading);
    int end = docs.indexOf("\n## ", start + heading.length() + 2);
    return docs.substring(start, end < 0 ? docs.length() : end);
  }
}
