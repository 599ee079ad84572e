package org.sat2diffusers.pipeline.steps;

import java.io.IOException;
import java.util.Optional;
import org.sat2diffusers.io.sat.SatCheckpoint;
import org.sat2diffusers.io.sat.SatLayout;
import org.sat2diffusers.pipeline.records.CheckpointJob;

/** Reads the {@code model_config.json} of a job's SAT run, which may name the model family. */
public final class RunModelConfigFile {
  private RunModelConfigFile() {}

  public static Optional<String> read(CheckpointJob job) throws IOException {
    return SatLayout.runModelConfig(new SatCheckpoint(job.source(), job.iteration(), job.files()));
  }
}
