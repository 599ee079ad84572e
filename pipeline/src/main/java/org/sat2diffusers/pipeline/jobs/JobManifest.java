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
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.sat.IterationSelection;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.storage.TreeListing;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.shard.SizeParser;
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
  private static final int MAX_MANIFEST_BYTES = 16 << 20;
  private static final int MAX_SAT_CONFIG_BYTES = 1 << 20;

  /** The fields of a job and how each is read: the format, as a table. */
  private static final Map<String, FieldReader> FIELDS = new LinkedHashMap<>();

  static {
    FIELDS.put("source", (job, v) -> job.source = v.path());
    FIELDS.put("source_root", (job, v) -> job.sourceRoot = v.path());
    FIELDS.put("output", (job, v) -> job.output = v.path());
    FIELDS.put("iterations", (job, v) -> job.iterations = IterationSelection.parse(String.join(",", v.items())));
    FIELDS.put("lora_alpha", (job, v) -> job.loraAlpha = v.number());
    FIELDS.put("dtype", (job, v) -> job.dtype = dtype(v.text()));
    FIELDS.put("vae_dtype", (job, v) -> job.vaeDtype = dtype(v.text()));
    FIELDS.put("model", (job, v) -> job.model = model(v.text()));
    FIELDS.put("sat_config", (job, v) -> job.satConfig = v.path());
    FIELDS.put("max_shard_size", (job, v) -> job.maxShardBytes = SizeParser.parse(v.scalar()));
    FIELDS.put("components", (job, v) -> job.components = components(v.items()));
    FIELDS.put("max_depth", (job, v) -> job.maxDepth = v.depth());
  }

  private JobManifest() {}

  /** Reads, checks and expands the manifest at {@code manifestPath} (any Beam filesystem). */
  public static List<CheckpointJob> read(String manifestPath) throws IOException {
    String text = StorageFiles.readString(manifestPath, MAX_MANIFEST_BYTES);
    return jobs(text, manifestPath, folderOf(manifestPath));
  }

  /**
   * The jobs of a manifest's text: every entry's fields and values are checked, then its sat_config
   * read and its sources expanded, then all outputs are checked to be distinct; each stage reports
   * every problem it finds.
   *
   * @param origin the manifest's name, for messages
   * @param baseDir the folder relative paths are resolved against
   */
  static List<CheckpointJob> jobs(String text, String origin, String baseDir) throws IOException {
    List<String> problems = new ArrayList<>();
    List<CheckpointJob> jobs = new ArrayList<>();
    for (Entry entry : parse(text, origin, baseDir)) {
      JobRequest request;
      try {
        request = entry.request();
      } catch (IOException e) {
        problems.add("line " + entry.lineOf("sat_config") + ", sat_config: " + e.getMessage());
        continue;
      }
      try {
        jobs.addAll(JobExpander.jobsOf(request));
      } catch (InvalidJobsException e) {
        String field = entry.source != null ? "source" : "source_root";
        for (String problem : e.problems()) {
          problems.add("line " + entry.lineOf(field) + ", " + field + ": " + problem);
        }
      }
    }
    fail(origin, problems);
    JobExpander.requireDistinctOutputs(jobs);
    return jobs;
  }

  /** Checks the structure and every value; nothing is read from storage. */
  static List<Entry> parse(String text, String origin, String baseDir) throws InvalidJobsException {
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

  private static void readFields(Entry entry, MappingNode fields, List<String> problems) {
    Set<String> seen = new HashSet<>();
    for (NodeTuple tuple : fields.getValue()) {
      Node keyNode = tuple.getKeyNode();
      String key = keyNode instanceof ScalarNode s ? s.getValue() : Value.describe(keyNode);
      FieldReader reader = FIELDS.get(key);
      if (reader == null) {
        problems.add("line " + line(keyNode) + ": unknown field '" + key + "' (expected " + String.join(", ", FIELDS.keySet())
            + ")");
      } else if (!seen.add(key)) {
        problems.add("line " + line(keyNode) + ", " + key + ": given twice in one job");
      } else {
        Node valueNode = tuple.getValueNode();
        try {
          reader.read(entry, new Value(valueNode));
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
  }

  private static void fail(String origin, List<String> problems) throws InvalidJobsException {
    if (!problems.isEmpty()) {
      throw invalid(origin, problems);
    }
  }

  private static InvalidJobsException invalid(String origin, List<String> problems) {
    return new InvalidJobsException("invalid manifest " + origin + ", nothing converted", problems);
  }

  private static Dtype dtype(String text) {
    try {
      return DtypeChoice.valueOf(text).dtype();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown dtype '" + text + "' (expected "
          + Arrays.stream(DtypeChoice.values()).map(Enum::name).collect(Collectors.joining(", ")) + ")");
    }
  }

  private static String model(String text) {
    boolean known = text.equals("auto")
        || Arrays.stream(ModelFamily.values()).anyMatch(f -> f.cliName().equals(text));
    if (!known) {
      throw new IllegalArgumentException("unknown model '" + text + "' (expected auto|" + ModelFamily.cliNames() + ")");
    }
    return text;
  }

  private static List<Component> components(List<String> names) {
    List<Component> components = new ArrayList<>();
    for (String name : names) {
      components.add(Component.fromFolder(name));
    }
    return components;
  }

  private static int line(Node node) {
    return node.getStartMark().getLine() + 1;
  }

  /** The folder of a file path: a URI's prefix, or a local path's absolute parent. */
  private static String folderOf(String file) {
    if (URI.matcher(file).matches()) {
      return file.substring(0, file.lastIndexOf('/'));
    }
    return Path.of(file).toAbsolutePath().normalize().getParent().toString();
  }

  /** A manifest path: URIs and absolute paths as written, relative ones below {@code baseDir}. */
  private static String resolve(String baseDir, String path) {
    if (URI.matcher(path).matches() || path.startsWith("/")) {
      return path;
    }
    if (URI.matcher(baseDir).matches()) {
      return baseDir + "/" + path;
    }
    return Path.of(baseDir).resolve(path).normalize().toString();
  }

  /** Reads one field's value into a job; throws IllegalArgumentException saying what is wrong with it. */
  private interface FieldReader {
    void read(Entry job, Value value);
  }

  /** One job of the manifest as read, with the lines its messages cite. */
  static final class Entry {
    final int line;
    private final String baseDir;
    /** The line of each field read. */
    final Map<String, Integer> lines = new HashMap<>();
    String source;
    String sourceRoot;
    String output;
    IterationSelection iterations;
    Double loraAlpha;
    Dtype dtype;
    Dtype vaeDtype;
    String model = "auto";
    String satConfig;
    long maxShardBytes;
    List<Component> components = List.of();
    int maxDepth = TreeListing.DEFAULT_MAX_DEPTH;

    Entry(int line, String baseDir) {
      this.line = line;
      this.baseDir = baseDir;
    }

    int lineOf(String field) {
      return lines.getOrDefault(field, line);
    }

    /** The request this entry makes; reads its sat_config. */
    JobRequest request() throws IOException {
      String satConfigYaml = satConfig == null ? null
          : StorageFiles.readString(resolve(baseDir, satConfig), MAX_SAT_CONFIG_BYTES);
      ConversionSettings settings =
          new ConversionSettings(loraAlpha, dtype, vaeDtype, maxShardBytes, model, satConfigYaml, components);
      return new JobRequest(
          source == null ? List.of() : List.of(resolve(baseDir, source)),
          sourceRoot == null ? List.of() : List.of(resolve(baseDir, sourceRoot)),
          iterations,
          resolve(baseDir, output),
          settings,
          maxDepth);
    }
  }

  /** A field's YAML value, read as the type the field wants. */
  private record Value(Node node) {
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

    /** A folder depth: a whole number from 0 to 1000. */
    int depth() {
      double value = number();
      if (value != Math.rint(value) || value < 0 || value > 1000) {
        throw new IllegalArgumentException("expected a whole number of folder levels from 0 to 1000, got " + value);
      }
      return (int) value;
    }

    double number() {
      if (node instanceof ScalarNode s && (s.getTag().equals(Tag.INT) || s.getTag().equals(Tag.FLOAT))) {
        try {
          double value = Double.parseDouble(s.getValue().replace("_", ""));
          if (Double.isFinite(value)) {
            return value;
          }
        } catch (NumberFormatException e) {
          // YAML spellings Java does not read (.inf, 0x10): reported below
        }
        throw new IllegalArgumentException("expected a finite decimal number, got " + s.getValue());
      }
      throw new IllegalArgumentException("expected a number, got " + describe(node));
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
