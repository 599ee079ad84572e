package org.sat2diffusers.pipeline.run;

import java.io.IOException;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.steps.CommitMarker;

/** Whether a job's output is already committed from the same sources, converter version and options. */
public final class UpToDate {
  private UpToDate() {}

  public static boolean check(CheckpointJob job) throws IOException {
    String marker = job.outputDir() + "/" + CommitMarker.FILE;
    return StorageFiles.exists(marker) && CommitMarker.isCurrent(StorageFiles.readString(marker, 1 << 20), job);
  }
}
