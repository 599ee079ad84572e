package org.sat2diffusers.pipeline.jobs;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A {@code --manifest} file: a YAML list of jobs, each with its own source, output and options (the
 * format is documented in {@code docs/manifest.md}). The whole file is checked before anything is
 * converted; every problem is reported with its line and field. Relative paths are relative to the
 * manifest's folder.
 */
public final class JobManifest {
  private static final Pattern URI = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*://.*");
  static final int MAX_MANIFEST_BYTES = 16 << 20;

  /** The fields of a job: one per {@link JobOptions} entry, read from YAML as its kind says. */
  private static final Map<String, JobOption> FIELDS = new LinkedHashMap<>();

  static {
    for (JobOption option : JobOptions.ALL) {
      FIELDS.put(option.field(), option);
    }
  }

  private JobManifest() {}

  /**
   * What a manifest asks for: its jobs, and the files its entries name besides their sources (so
   * that no job's output may overwrite what another job reads).
   *
   * @param jobs the checkpoints to convert, in the manifest's order
   * @param inputs each entry's {@code sat_config} and {@code base_pipeline}, cited with the entry's line
   */
  public record Contents(List<CheckpointJob> jobs, List<NamedInput> inputs) {
    public Contents {
      jobs = List.copyOf(jobs);
      inputs = List.copyOf(inputs);
    }
  }

  /** Reads, checks and expands the manifest at {@code manifestPath} (any Beam filesystem). */
  public static Contents read(String manifestPath) throws IOException {
    String text = StorageFiles.readString(manifestPath, MAX_MANIFEST_BYTES);
    return jobs(text, manifestPath, folderOf(manifestPath));
  }

  /**
   * The jobs of a manifest's text and the files they name: every entry's fields and values are
   * checked, then the files its options name read (sat_config, base_pipeline) and its sources
   * expanded, then all outputs are checked to be distinct; each stage reports every problem it finds.
   *
   * @param origin the manifest's name, for messages
   * @param baseDir the folder relative paths are resolved against
   */
  static Contents jobs(String text, String origin, String baseDir) throws IOException {
    List<String> problems = new ArrayList<>();
    List<CheckpointJob> jobs = new ArrayList<>();
    List<NamedInput> inputs = new ArrayList<>();
    for (Entry entry : parse(text, origin, baseDir)) {
      inputs.addAll(entry.values.inputs(option -> option.field() + " (job at line " + entry.line + ")", entry::resolve));
      JobRequest request;
      try {
        request = entry.request();
      } catch (JobValues.OptionException e) {
        String field = e.option().field();
        problems.add("line " + entry.lineOf(field) + ", " + field + ": " + e.getMessage());
        continue;
      }
      try {
        jobs.addAll(JobExpander.jobsOf(request));
      } catch (InvalidJobsException e) {
        String field = entry.values.sources.isEmpty() ? "source_root" : "source";
        for (String problem : e.problems()) {
          problems.add("line " + entry.lineOf(field) + ", " + field + ": " + problem);
        }
      }
    }
    fail(origin, problems);
    JobExpander.requireDistinctOutputs(jobs);
    return new Contents(jobs, inputs);
  }

  /** Checks the structure and every value; nothing is read from storage. */
  static List<Entry> parse(String text, String origin, String baseDir) throws InvalidJobsException {
    SequenceNode list = jobList(text, origin);
    List<String> problems = new ArrayList<>();
    List<Entry> entries = new ArrayList<>();
    for (Node item : list.getValue()) {
      Entry entry = new Entry(line(item), baseDir);
      entries.add(entry);
      if (!(item instanceof MappingNode fields)) {
        problems.add("line " + entry.line + ": expected a job (fields such as source: and output:), got "
            + Value.describe(item));
        continue;
      }
      readFields(entry, fields, problems);
    }
    fail(origin, problems);
    return entries;
  }

  /** The manifest's list of jobs, as YAML nodes (their lines kept); every kind of manifest starts here. */
  static SequenceNode jobList(String text, String origin) throws InvalidJobsException {
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setCodePointLimit(MAX_MANIFEST_BYTES);
      root = new Yaml(new SafeConstructor(options)).compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      throw invalid(origin, List.of("line " + (e.getProblemMark().getLine() + 1) + ": not valid YAML: " + e.getProblem()));
    } catch (YAMLException e) {
      throw invalid(origin, List.of("not valid YAML: " + e.getMessage()));
    }
    if (!(root instanceof SequenceNode list)) {
      int line = root == null ? 1 : line(root);
      throw invalid(origin, List.of("line " + line
          + ": expected a list of jobs (each '- source: ...' with its output), got " + Value.describe(root)));
    }
    if (list.getValue().isEmpty()) {
      throw invalid(origin, List.of("line " + line(list) + ": no jobs listed"));
    }
    return list;
  }

  private static void readFields(Entry entry, MappingNode fields, List<String> problems) {
    Set<String> seen = new HashSet<>();
    for (NodeTuple tuple : fields.getValue()) {
      Node keyNode = tuple.getKeyNode();
      String key = keyNode instanceof ScalarNode s ? s.getValue() : Value.describe(keyNode);
      JobOption option = FIELDS.get(key);
      if (key.equals(ToSatManifest.KIND)) {
        ToSatManifest.checkKind(tuple.getValueNode(), "convert", problems);
      } else if (option == null) {
        problems.add("line " + line(keyNode) + ": unknown field '" + key + "' (expected " + String.join(", ", FIELDS.keySet())
            + ")");
      } else if (!seen.add(key)) {
        problems.add("line " + line(keyNode) + ", " + key + ": given twice in one job");
      } else {
        Node valueNode = tuple.getValueNode();
        try {
          option.setter().set(entry.values, new Value(valueNode).of(option.kind()));
          entry.lines.put(key, line(valueNode));
        } catch (IllegalArgumentException e) {
          problems.add("line " + line(valueNode) + ", " + key + ": " + e.getMessage());
        }
      }
    }
    if (seen.contains("source") && seen.contains("source_root")) {
      problems.add("line " + entry.line + ": give either source or source_root, not both");
    } else if (!seen.contains("source") && !seen.contains("source_root")) {
      problems.add("line " + entry.line + ": job has no source (or source_root)");
    }
    if (!seen.contains("output")) {
      problems.add("line " + entry.line + ": job has no output");
    }
    for (String conflict : entry.values.conflicts(JobOption::field, entry::resolve)) {
      problems.add("line " + entry.line + ": " + conflict);
    }
  }

  static void fail(String origin, List<String> problems) throws InvalidJobsException {
    if (!problems.isEmpty()) {
      throw invalid(origin, problems);
    }
  }

  static InvalidJobsException invalid(String origin, List<String> problems) {
    return new InvalidJobsException("invalid manifest " + origin + ", nothing converted", problems);
  }

  static int line(Node node) {
    return node.getStartMark().getLine() + 1;
  }

  /** The folder of a file path: a URI's prefix, or a local path's absolute parent. */
  static String folderOf(String file) {
    if (URI.matcher(file).matches()) {
      return file.substring(0, file.lastIndexOf('/'));
    }
    return Path.of(file).toAbsolutePath().normalize().getParent().toString();
  }

  /** A manifest path: URIs and absolute paths as written, relative ones below {@code baseDir}. */
  static String resolve(String baseDir, String path) {
    if (URI.matcher(path).matches() || path.startsWith("/")) {
      return path;
    }
    if (URI.matcher(baseDir).matches()) {
      return baseDir + "/" + path;
    }
    return Path.of(baseDir).resolve(path).normalize().toString();
  }

  /** One job of the manifest as read, with the lines its messages cite. */
  static final class Entry {
    final int line;
    private final String baseDir;
    /** The line of each field read. */
    final Map<String, Integer> lines = new HashMap<>();
    final JobValues values = new JobValues();

    Entry(int line, String baseDir) {
      this.line = line;
      this.baseDir = baseDir;
    }

    int lineOf(String field) {
      return lines.getOrDefault(field, line);
    }

    String resolve(String path) {
      return JobManifest.resolve(baseDir, path);
    }

    /** The request this entry makes; reads the files its options name (sat_config, base_pipeline). */
    JobRequest request() throws JobValues.OptionException {
      return values.request(this::resolve);
    }
  }

  /** A field's YAML value, read as the type the field wants. */
  record Value(Node node) {
    /** The value as a {@link JobOption.Setter} takes it: one item, or the items of a list. */
    List<String> of(JobOption.Kind kind) {
      return switch (kind) {
        case FLAG -> List.of(String.valueOf(bool()));
        case NUMBER -> List.of(number());
        case NAME -> List.of(text());
        case VALUE -> List.of(scalar());
        case PATH, PATHS -> List.of(path());
        case LIST -> items();
      };
    }

    /** Any scalar but null and booleans, as written. */
    String scalar() {
      if (node instanceof ScalarNode s && !s.getTag().equals(Tag.NULL) && !s.getTag().equals(Tag.BOOL)) {
        return s.getValue();
      }
      throw new IllegalArgumentException("expected a single value, got " + describe(node));
    }

    String path() {
      String path = scalar();
      if (path.isBlank()) {
        throw new IllegalArgumentException("expected a path, got an empty string");
      }
      return path;
    }

    /** A word such as {@code bf16}: a string scalar. */
    String text() {
      if (node instanceof ScalarNode s && s.getTag().equals(Tag.STR)) {
        return s.getValue();
      }
      throw new IllegalArgumentException("expected a name, got " + describe(node));
    }

    /** A number as written; the option checks that it is finite. */
    String number() {
      if (node instanceof ScalarNode s && (s.getTag().equals(Tag.INT) || s.getTag().equals(Tag.FLOAT))) {
        return s.getValue();
      }
      throw new IllegalArgumentException("expected a number, got " + describe(node));
    }

    boolean bool() {
      if (node instanceof ScalarNode s && s.getTag().equals(Tag.BOOL)) {
        return Set.of("true", "yes", "on").contains(s.getValue().toLowerCase(Locale.ROOT));
      }
      throw new IllegalArgumentException("expected true or false, got " + describe(node));
    }

    /** A list ({@code [a, b]} or one item per line) or one comma-separated scalar. */
    List<String> items() {
      if (node instanceof SequenceNode seq) {
        if (seq.getValue().isEmpty()) {
          throw new IllegalArgumentException("expected at least one item, got an empty list");
        }
        List<String> items = new ArrayList<>();
        for (Node item : seq.getValue()) {
          items.add(new Value(item).scalar());
        }
        return items;
      }
      return Arrays.stream(scalar().split(",", -1)).map(String::trim).toList();
    }

    static String describe(Node node) {
      if (node == null) {
        return "nothing";
      }
      if (node instanceof SequenceNode) {
        return "a list";
      }
      if (node instanceof MappingNode) {
        return "a mapping";
      }
      ScalarNode s = (ScalarNode) node;
      if (s.getTag().equals(Tag.NULL)) {
        return "nothing";
      }
      if (s.getTag().equals(Tag.BOOL)) {
        return "a boolean (" + s.getValue() + ")";
      }
      if (s.getTag().equals(Tag.INT) || s.getTag().equals(Tag.FLOAT)) {
        return "a number (" + s.getValue() + ")";
      }
      return "'" + s.getValue() + "'";
    }
  }
}
