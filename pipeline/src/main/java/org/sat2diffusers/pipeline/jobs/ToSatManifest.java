package org.sat2diffusers.pipeline.jobs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.records.ToSatJob;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * A {@code to-sat --manifest}: a YAML list of {@code kind: to-sat} jobs, each a Diffusers folder to
 * write as a SAT run, with the fields of the {@code to-sat} options ({@code docs/manifest.md}). Read
 * like {@link JobManifest}: the whole file checked first, every problem reported with its line and
 * field, relative paths relative to the manifest's folder. A manifest holds jobs of one kind: a
 * {@code convert} job here, or a {@code to-sat} job in {@code convert}'s, names the command to use.
 */
public final class ToSatManifest {
  /** The field naming a job's kind; {@code convert} when absent in {@code convert}'s manifests. */
  static final String KIND = "kind";

  static final String TO_SAT = "to-sat";
  static final String CONVERT = "convert";

  /** The fields of a to-sat job: the to-sat options in snake_case, and its kind. */
  private static final List<String> FIELDS = List.of(KIND, "source", "output", "iteration", "model", "dtype", "lora_rank");

  private ToSatManifest() {}

  /** Reads and checks the manifest at {@code manifestPath} (any Beam filesystem); its jobs in order. */
  public static List<ToSatJob> read(String manifestPath) throws IOException {
    String text = StorageFiles.readString(manifestPath, JobManifest.MAX_MANIFEST_BYTES);
    return jobs(text, manifestPath, JobManifest.folderOf(manifestPath));
  }

  static List<ToSatJob> jobs(String text, String origin, String baseDir) throws InvalidJobsException {
    SequenceNode list = JobManifest.jobList(text, origin);
    List<String> problems = new ArrayList<>();
    List<ToSatJob> jobs = new ArrayList<>();
    Map<String, Integer> outputLines = new HashMap<>();
    for (Node item : list.getValue()) {
      int line = JobManifest.line(item);
      if (!(item instanceof MappingNode mapping)) {
        problems.add("line " + line + ": expected a job (kind: to-sat, source: and output:), got "
            + JobManifest.Value.describe(item));
        continue;
      }
      Fields fields = new Fields(line, problems);
      for (NodeTuple tuple : mapping.getValue()) {
        fields.put(tuple.getKeyNode(), tuple.getValueNode());
      }
      ToSatJob job = fields.job(baseDir);
      if (job == null) {
        continue;
      }
      Integer earlier = outputLines.putIfAbsent(job.output(), line);
      if (earlier != null) {
        problems.add("line " + fields.lineOf("output") + ", output: " + job.output()
            + " is also the output of the job at line " + earlier + " (one SAT run folder per job)");
        continue;
      }
      jobs.add(job);
    }
    JobManifest.fail(origin, problems);
    return jobs;
  }

  /**
   * Checks a job's {@code kind} against the kind the reading command runs.
   *
   * @param expected {@link #CONVERT} or {@link #TO_SAT}
   */
  static void checkKind(Node value, String expected, List<String> problems) {
    String where = "line " + JobManifest.line(value) + ", " + KIND + ": ";
    String kind;
    try {
      kind = new JobManifest.Value(value).text();
    } catch (IllegalArgumentException e) {
      problems.add(where + e.getMessage());
      return;
    }
    if (kind.equals(expected)) {
      return;
    }
    if (kind.equals(TO_SAT) || kind.equals(CONVERT)) {
      problems.add(where + "a " + kind + " job: run it with " + kind + " --manifest (a manifest holds jobs of one kind)");
    } else {
      problems.add(where + "unknown kind '" + kind + "' (expected " + CONVERT + " or " + TO_SAT + ")");
    }
  }

  /** One entry's fields as read, with the lines its messages cite. */
  private static final class Fields {
    private final int line;
    private final List<String> problems;
    private final Map<String, Node> values = new LinkedHashMap<>();

    Fields(int line, List<String> problems) {
      this.line = line;
      this.problems = problems;
    }

    void put(Node keyNode, Node valueNode) {
      String key = keyNode instanceof ScalarNode s ? s.getValue() : JobManifest.Value.describe(keyNode);
      if (!FIELDS.contains(key)) {
        problems.add("line " + JobManifest.line(keyNode) + ": unknown field '" + key + "' (expected "
            + String.join(", ", FIELDS) + ")");
      } else if (values.putIfAbsent(key, valueNode) != null) {
        problems.add("line " + JobManifest.line(keyNode) + ", " + key + ": given twice in one job");
      }
    }

    int lineOf(String field) {
      Node node = values.get(field);
      return node == null ? line : JobManifest.line(node);
    }

    /** The job, or null when a problem was reported. */
    ToSatJob job(String baseDir) {
      int before = problems.size();
      if (values.containsKey(KIND)) {
        checkKind(values.get(KIND), TO_SAT, problems);
      } else {
        problems.add("line " + line + ": job has no kind (to-sat --manifest runs kind: to-sat jobs)");
      }
      for (String required : List.of("source", "output")) {
        if (!values.containsKey(required)) {
          problems.add("line " + line + ": job has no " + required);
        }
      }
      String source = value("source", v -> JobManifest.resolve(baseDir, v.path()), null);
      String output = value("output", v -> JobManifest.resolve(baseDir, v.path()), null);
      Integer iteration = value("iteration", v -> whole(v.number()), 1);
      String model = value("model", v -> JobOptions.model(v.text()), "auto");
      Dtype dtype = value("dtype", v -> JobOptions.dtype(v.text()), null);
      Integer loraRank = value("lora_rank", v -> whole(v.number()), null);
      if (problems.size() > before) {
        return null;
      }
      try {
        return new ToSatJob(source, output, iteration, model, dtype, loraRank);
      } catch (IllegalArgumentException e) {
        problems.add("line " + line + ": " + e.getMessage());
        return null;
      }
    }

    private <T> T value(String field, Function<JobManifest.Value, T> read, T otherwise) {
      Node node = values.get(field);
      if (node == null) {
        return otherwise;
      }
      try {
        return read.apply(new JobManifest.Value(node));
      } catch (IllegalArgumentException e) {
        problems.add("line " + JobManifest.line(node) + ", " + field + ": " + e.getMessage());
        return otherwise;
      }
    }

    private static int whole(String number) {
      try {
        return Integer.parseInt(number);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("expected a whole number, got " + number);
      }
    }
  }
}
