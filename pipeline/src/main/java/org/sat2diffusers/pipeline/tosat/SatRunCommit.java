package org.sat2diffusers.pipeline.tosat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.torch.TensorToWrite;
import org.sat2diffusers.io.torch.TorchCheckpointWriter;
import org.sat2diffusers.pipeline.steps.StagingFolder;

/**
 * Writes a SAT run folder as {@code convert} writes a Diffusers one: every file into {@code
 * OUT/.sat2diffusers-staging/} first, then moved into place, and last {@code latest}, written
 * atomically: SAT finds a checkpoint through {@code latest}, so until it names the new iteration the
 * run is as it was. A failure removes what was staged. The caller holds the output's lock.
 */
public final class SatRunCommit {
  /** SAT's checkpoint file of model-parallel rank 0 (the only rank the way back writes). */
  public static final String CHECKPOINT = "mp_rank_00_model_states.pt";
  public static final String LATEST = "latest";
  /** The SAT model config fragment beside {@code model_config.json}. */
  public static final String CONFIG_YAML = "model_config.yaml";
  public static final String MODEL_CONFIG_JSON = "model_config.json";
  /** What became of every tensor, in the iteration folder. */
  public static final String REPORT = "to_sat_report.json";

  private SatRunCommit() {}

  /**
   * @param textFiles further files of the run, by path relative to {@code outputDir}
   * @return the checkpoint's size in bytes
   */
  public static long write(String outputDir, int iteration, List<TensorToWrite> tensors, Map<String, String> textFiles)
      throws IOException {
    String staging = outputDir + "/" + StagingFolder.NAME;
    StagingFolder.prepare(outputDir);
    try {
      String checkpoint = iteration + "/" + CHECKPOINT;
      Map<String, Object> values = new LinkedHashMap<>();
      values.put("iteration", iteration);
      long bytes = new TorchCheckpointWriter().write(staging + "/" + checkpoint, tensors, values).fileBytes();
      List<String> from = new ArrayList<>();
      List<String> to = new ArrayList<>();
      from.add(staging + "/" + checkpoint);
      to.add(outputDir + "/" + checkpoint);
      for (Map.Entry<String, String> f : textFiles.entrySet()) {
        StorageFiles.writeString(staging + "/" + f.getKey(), f.getValue());
        from.add(staging + "/" + f.getKey());
        to.add(outputDir + "/" + f.getKey());
      }
      StorageFiles.move(from, to);
      StorageFiles.syncFolder(outputDir + "/" + iteration);
      StorageFiles.writeStringAtomically(outputDir + "/" + LATEST, Integer.toString(iteration)); // as SAT writes it
      return bytes;
    } finally {
      StagingFolder.discard(outputDir);
    }
  }
}
