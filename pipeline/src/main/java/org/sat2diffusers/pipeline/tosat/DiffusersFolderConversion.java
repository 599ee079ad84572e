package org.sat2diffusers.pipeline.tosat;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.PipelineOptions;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.records.ToSatJob;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Stage;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Status;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.pipeline.steps.Version;
import org.sat2diffusers.pipeline.storage.OutputLock;
import org.sat2diffusers.transforms.records.SatTensor;
import org.sat2diffusers.transforms.reverse.SatRunPlan;
import org.sat2diffusers.transforms.reverse.SatRunPlanner;

/**
 * One {@link ToSatJob} done: the Diffusers folder read and planned, then, under the output's lock,
 * the SAT run committed ({@link SatRunCommit}). Whatever happens ends as the job's outcome, so one
 * bad folder never stops the others of a run: a folder that cannot be planned is invalid input
 * (nothing written), a failure while writing leaves the run as it was.
 */
public final class DiffusersFolderConversion {
  private static final Duration LOCK_WAIT = Duration.ofSeconds(30);

  private DiffusersFolderConversion() {}

  /** The plan of a job's folder, for a dry run; the folder's files are closed again. */
  public static SatRunPlan plan(ToSatJob job) throws IOException {
    DiffusersFolderReader reader = new DiffusersFolderReader();
    try {
      return SatRunPlanner.plan(reader.read(job.source()), job.settings());
    } finally {
      close(reader);
    }
  }

  /**
   * @return the outcome, keyed by the job's output; on success its message says what was written,
   *     recomputed and left out, a line each
   */
  public static CheckpointOutcome run(ToSatJob job, PipelineOptions options) {
    DiffusersFolderReader reader = new DiffusersFolderReader();
    try {
      SatRunPlan plan;
      try {
        plan = SatRunPlanner.plan(reader.read(job.source()), job.settings());
      } catch (IllegalArgumentException | IOException e) { // ModelInferenceException is one
        return new CheckpointOutcome(job.output(), Status.INVALID_INPUT, Stage.PLAN,
            job.source() + ": " + ErrorText.of(e), 0, 0);
      }
      long bytes;
      try (OutputLock lock = OutputLock.acquire(job.output(), options, LOCK_WAIT)) {
        bytes = SatRunCommit.write(job.output(), job.iteration(), SatCheckpointTensors.of(plan.tensors(), reader.inputs()),
            textFiles(job.source(), plan));
      }
      List<String> lines = new ArrayList<>();
      lines.add(String.format("wrote %s: %d tensors, %d bytes (%s, %s)", checkpoint(job), plan.tensors().size(), bytes,
          plan.family().displayName(), plan.familyEvidence()));
      plan.recomputed().forEach(t -> lines.add("recomputed " + t.key() + ": " + t.rule()));
      plan.notWritten().forEach(n -> lines.add("not written " + n));
      return new CheckpointOutcome(job.output(), Status.CONVERTED, Stage.COMMIT, String.join("\n", lines),
          plan.tensors().size(), bytes);
    } catch (Exception e) {
      return new CheckpointOutcome(job.output(), Status.FAILED, Stage.WRITE, checkpoint(job) + ": " + ErrorText.of(e), 0, 0);
    } finally {
      close(reader);
    }
  }

  /** The checkpoint file a job writes. */
  public static String checkpoint(ToSatJob job) {
    return job.output() + "/" + job.iteration() + "/" + SatRunCommit.CHECKPOINT;
  }

  private static void close(DiffusersFolderReader reader) {
    for (RandomAccessInput in : reader.inputs().values()) {
      try {
        in.close();
      } catch (IOException ignored) {
        // reading is over; nothing to lose
      }
    }
  }

  private static Map<String, String> textFiles(String sourceDir, SatRunPlan plan) {
    Map<String, String> files = new LinkedHashMap<>();
    files.put(plan.iteration() + "/" + SatRunCommit.REPORT, report(sourceDir, plan));
    files.put(SatRunCommit.CONFIG_YAML, plan.configYaml());
    files.put(SatRunCommit.MODEL_CONFIG_JSON, plan.modelConfigJson());
    return files;
  }

  /** What became of every tensor: its SAT key, dtype, shape, the Diffusers keys it is made of and the rule. */
  private static String report(String sourceDir, SatRunPlan plan) {
    List<Object> tensors = new ArrayList<>();
    for (SatTensor t : plan.tensors()) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("key", t.key());
      e.put("dtype", t.dtype().safetensorsName());
      e.put("shape", t.shape());
      e.put("from", t.sourceKeys());
      if (t.tiedTo() != null) {
        e.put("shares_storage_with", t.tiedTo());
      }
      e.put("rule", t.rule());
      tensors.add(e);
    }
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("converter_version", Version.current());
    r.put("command", "to-sat");
    r.put("source", sourceDir);
    r.put("family", plan.family().cliName());
    r.put("family_evidence", plan.familyEvidence());
    r.put("iteration", plan.iteration());
    r.put("recomputed", plan.recomputed().stream().map(SatTensor::key).toList());
    r.put("not_written", plan.notWritten());
    r.put("tensors", tensors);
    return PythonJson.dumps(r, false) + "\n";
  }
}
