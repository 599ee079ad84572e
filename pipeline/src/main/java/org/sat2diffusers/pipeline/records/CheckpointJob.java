package org.sat2diffusers.pipeline.records;

import java.io.Serializable;
import java.util.List;
import org.sat2diffusers.io.storage.FileFingerprint;
import org.sat2diffusers.transforms.convert.ConversionSettings;

/**
 * One checkpoint to convert and where to: what the driver hands the pipeline.
 *
 * @param id unique within the run (the output folder)
 * @param source the path the user gave, for messages and the report
 * @param iteration the checkpoint's iteration
 * @param files the checkpoint files (transformer rank files, then a separate VAE file if any)
 * @param outputDir the Diffusers folder to produce
 * @param settings the conversion options
 * @param fingerprints the files' fingerprints when the run started (recorded in the commit marker)
 */
public record CheckpointJob(
    String id,
    String source,
    String iteration,
    List<String> files,
    String outputDir,
    ConversionSettings settings,
    List<FileFingerprint> fingerprints)
    implements Serializable {
  public CheckpointJob {
    files = List.copyOf(files);
    fingerprints = List.copyOf(fingerprints);
  }

  /** A job whose files have not been fingerprinted yet. */
  public CheckpointJob(
      String id, String source, String iteration, List<String> files, String outputDir, ConversionSettings settings) {
    this(id, source, iteration, files, outputDir, settings, List.of());
  }

  public CheckpointJob withFingerprints(List<FileFingerprint> newFingerprints) {
    return new CheckpointJob(id, source, iteration, files, outputDir, settings, newFingerprints);
  }

  /** Where this job's files are staged until they are complete. */
  public String stagingDir() {
    return outputDir + "/.sat2diffusers-staging";
  }
}
