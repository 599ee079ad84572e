package org.sat2diffusers.pipeline.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.jobs.DtypeChoice;
import org.sat2diffusers.pipeline.jobs.NamedInput;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.pipeline.steps.Version;
import org.sat2diffusers.pipeline.storage.OutputLock;
import org.sat2diffusers.pipeline.storage.OutputOverlap;
import org.sat2diffusers.pipeline.tosat.DiffusersFolderReader;
import org.sat2diffusers.pipeline.tosat.SatCheckpointTensors;
import org.sat2diffusers.pipeline.tosat.SatRunCommit;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.records.SatTensor;
import org.sat2diffusers.transforms.reverse.SatRunPlan;
import org.sat2diffusers.transforms.reverse.SatRunPlanner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code to-sat}: the way back, a Diffusers CogVideoX folder written as a SAT run that SAT loads and
 * trains on. Runs in this process (one model, no Beam pipeline), through the torch checkpoint writer:
 * every tensor a byte-range recipe of the Diffusers files, streamed once; the sincos table of
 * CogVideoX-2B recomputed. Committed like {@code convert}: outputs never overlap the source, the
 * output is locked, files are staged and {@code latest} is written last.
 */
@Command(
    name = "to-sat",
    mixinStandardHelpOptions = true,
    description = {
      "Converts a Diffusers CogVideoX folder (transformer, and vae/ and text_encoder/ when present) into a SAT run:"
          + " SAT_RUN_DIR/<N>/mp_rank_00_model_states.pt, latest, model_config.json and the SAT model config"
          + " fragment model_config.yaml (what convert --sat-config reads).",
      ExitCodes.HELP
    },
    sortOptions = false)
public final class ToSatCommand implements Callable<Integer> {
  private static final Duration LOCK_WAIT = Duration.ofSeconds(30);

  @Spec CommandSpec spec;

  @Option(names = "--source", required = true, paramLabel = "DIFFUSERS_DIR",
      description = "A Diffusers pipeline folder: transformer/ (one file or shards, with or without an index), and"
          + " vae/, text_encoder/, scheduler/ when present. Only read.")
  String source;

  @Option(names = "--output", required = true, paramLabel = "SAT_RUN_DIR",
      description = "The SAT run folder to write (created if needed; other iterations in it are left alone).")
  String output;

  @Option(names = "--iteration", defaultValue = "1", paramLabel = "N",
      description = "The iteration folder to write, which latest then names. Default: ${DEFAULT-VALUE}.")
  int iteration;

  @Option(names = "--model", defaultValue = "auto", paramLabel = "auto|cogvideox-2b|...",
      description = "The family: auto reads transformer/config.json (positions, patches), else the tensors.")
  String model;

  @Option(names = "--dtype", defaultValue = "keep", paramLabel = "keep|bf16|fp16|fp32",
      description = "Cast the transformer and the text encoder (round to nearest even); the VAE keeps its dtype."
          + " Default: ${DEFAULT-VALUE}.")
  DtypeChoice dtype;

  @Option(names = "--lora-rank", paramLabel = "R",
      description = "Write transformer/pytorch_lora_weights.safetensors as SAT lora2 of rank R (original weights"
          + " plus matrix_A/matrix_B; lora_alpha in model_config.yaml gives the adapter's scale). Without it, a"
          + " folder with an adapter is refused: merge it first with merge-lora.")
  Integer loraRank;

  @Option(names = "--dry-run", description = "Print the plan (every SAT tensor, its recipe and rule; what is"
      + " recomputed; what cannot come back) and write nothing.")
  boolean dryRun;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    PipelineOptions options = PipelineOptionsFactory.create();
    String sourceDir;
    String outputDir;
    SatRunPlanner.Settings settings;
    try {
      FileSystems.setDefaultPipelineOptions(options);
      if (iteration < 0) {
        throw new IllegalArgumentException("--iteration must be 0 or more, got " + iteration);
      }
      if (loraRank != null && loraRank <= 0) {
        throw new IllegalArgumentException("--lora-rank must be positive, got " + loraRank);
      }
      Optional<ModelFamily> family = model.equals("auto") ? Optional.empty() : Optional.of(ModelFamily.fromCliName(model));
      settings = new SatRunPlanner.Settings(family, dtype.dtype(), loraRank, iteration);
      sourceDir = absolute(source);
      outputDir = absolute(output);
      if (!dryRun) {
        OutputOverlap.check(List.of(new NamedInput(sourceDir, "source")), List.of(new NamedInput(outputDir, "output folder")));
        String checkpoint = outputDir + "/" + iteration + "/" + SatRunCommit.CHECKPOINT;
        if (StorageFiles.exists(checkpoint)) {
          throw new IllegalArgumentException(checkpoint + " exists: the run already has iteration " + iteration
              + "; give another --iteration or remove it");
        }
      }
    } catch (IllegalArgumentException | IOException e) {
      err.println("error: " + ErrorText.of(e));
      return ExitCodes.USAGE;
    }

    DiffusersFolderReader reader = new DiffusersFolderReader();
    try {
      SatRunPlan plan;
      try {
        plan = SatRunPlanner.plan(reader.read(sourceDir), settings);
      } catch (IllegalArgumentException | IOException e) { // ModelInferenceException is one
        err.println("error: " + sourceDir + ": " + ErrorText.of(e));
        return ExitCodes.INVALID_INPUT;
      }
      if (dryRun) {
        printPlan(out, sourceDir, outputDir, plan);
        return ExitCodes.OK;
      }
      long bytes;
      try (OutputLock lock = OutputLock.acquire(outputDir, options, LOCK_WAIT)) {
        bytes = SatRunCommit.write(outputDir, iteration, SatCheckpointTensors.of(plan.tensors(), reader.inputs()),
            textFiles(sourceDir, plan));
      }
      out.printf("wrote %s/%d/%s: %d tensors, %d bytes (%s, %s)%n", outputDir, iteration, SatRunCommit.CHECKPOINT,
          plan.tensors().size(), bytes, plan.family().displayName(), plan.familyEvidence());
      plan.recomputed().forEach(t -> out.printf("recomputed %s: %s%n", t.key(), t.rule()));
      plan.notWritten().forEach(n -> out.printf("not written %s%n", n));
      out.flush();
      return ExitCodes.OK;
    } catch (Exception e) {
      err.println("error: " + ErrorText.of(e));
      return ExitCodes.FAILED;
    } finally {
      for (RandomAccessInput in : reader.inputs().values()) {
        try {
          in.close();
        } catch (IOException ignored) {
          // reading is over; nothing to lose
        }
      }
    }
  }

  private static String absolute(String path) {
    return path.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*") ? path.replaceAll("/+$", "")
        : Path.of(path).toAbsolutePath().normalize().toString();
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

  private static void printPlan(PrintWriter out, String sourceDir, String outputDir, SatRunPlan plan) {
    out.printf("dry run: %s -> %s/%d/%s (nothing written)%n", sourceDir, outputDir, plan.iteration(),
        SatRunCommit.CHECKPOINT);
    out.printf("family: %s (%s)%n", plan.family().displayName(), plan.familyEvidence());
    out.printf("%d tensors, %d bytes of storages%n", plan.tensors().size(), plan.storageBytes());
    for (SatTensor t : plan.tensors()) {
      String from = t.recomputed() ? "recomputed" : t.tiedTo() != null ? "storage of " + t.tiedTo()
          : t.sources().size() + " range(s) of " + String.join(", ", t.sourceKeys());
      out.printf("  %s %s%s <- %s: %s%n", t.key(), t.dtype().safetensorsName(), t.shape(), from, t.rule());
    }
    plan.recomputed().forEach(t -> out.printf("recomputed %s%n", t.key()));
    plan.notWritten().forEach(n -> out.printf("not written %s%n", n));
    out.printf("also: %s/%s, %s, %s%n", outputDir, SatRunCommit.LATEST, SatRunCommit.MODEL_CONFIG_JSON,
        SatRunCommit.CONFIG_YAML);
    out.flush();
  }
}
