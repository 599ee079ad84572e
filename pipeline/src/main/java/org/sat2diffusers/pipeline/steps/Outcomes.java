package org.sat2diffusers.pipeline.steps;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TupleTag;
import org.sat2diffusers.io.deepspeed.ZeroCheckpointException;
import org.sat2diffusers.io.dcp.DcpException;
import org.sat2diffusers.io.pickle.PickleException;
import org.sat2diffusers.io.safetensors.SafetensorsException;
import org.sat2diffusers.io.storage.FileTooLargeException;
import org.sat2diffusers.io.sat.SatLayoutException;
import org.sat2diffusers.io.torch.CheckpointFormatException;
import org.sat2diffusers.io.trainer.TrainerCheckpointException;
import org.sat2diffusers.io.zip.ZipFormatException;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Stage;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Status;

/**
 * The side output every step reports endings to: one checkpoint's failure becomes an outcome
 * record instead of an exception, so it never stops the others.
 */
public final class Outcomes {
  public static final TupleTag<KV<String, CheckpointOutcome>> TAG = new TupleTag<>() {};

  /** Errors that mean the input is not convertible, as opposed to a fault while working on it. */
  private static final List<Class<? extends Throwable>> INVALID_INPUT = List.of(
      SatLayoutException.class, CheckpointFormatException.class, ZipFormatException.class, PickleException.class,
      SafetensorsException.class, IllegalArgumentException.class, EOFException.class, FileNotFoundException.class,
      NoSuchFileException.class, FileTooLargeException.class, ZeroCheckpointException.class,
      DcpException.class, TrainerCheckpointException.class);

  private Outcomes() {}

  public static Coder<KV<String, CheckpointOutcome>> coder() {
    return KvCoder.of(StringUtf8Coder.of(), SerializableCoder.of(CheckpointOutcome.class));
  }

  /**
   * The outcome of an error in {@code stage}. Before writing, input errors are INVALID_INPUT; anything
   * else (and everything while writing) is FAILED.
   */
  public static KV<String, CheckpointOutcome> failure(String checkpointId, Stage stage, String context, Throwable error) {
    boolean beforeWriting = stage == Stage.INDEX || stage == Stage.PLAN;
    Status status = beforeWriting && isInvalidInput(error) ? Status.INVALID_INPUT : Status.FAILED;
    String message = describe(context, error);
    if (status == Status.FAILED) {
      message += " (nothing was committed for this checkpoint; fix the cause, e.g. a full or read-only output,"
          + " and run the same command again: finished checkpoints are skipped)";
    }
    return KV.of(checkpointId, new CheckpointOutcome(checkpointId, status, stage, message, 0, 0));
  }

  /**
   * The outcome to report, unless the run was asked to stop at the first failure: then the error is
   * rethrown (with the outcome's message) and the runner stops the run.
   */
  public static KV<String, CheckpointOutcome> orFailFast(PipelineOptions options, KV<String, CheckpointOutcome> outcome) {
    if (options.as(ConversionOptions.class).getFailFast()) {
      throw new IllegalStateException("--fail-fast: " + outcome.getValue().message());
    }
    return outcome;
  }

  /** Whether the error (or a cause) says the input is not convertible: retrying cannot help. */
  static boolean isInvalidInput(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      for (Class<? extends Throwable> c : INVALID_INPUT) {
        if (c.isInstance(t)) {
          return true;
        }
      }
    }
    return false;
  }

  private static String describe(String context, Throwable error) {
    String message = ErrorText.of(error);
    return context == null || message.contains(context) ? message : context + ": " + message;
  }
}
