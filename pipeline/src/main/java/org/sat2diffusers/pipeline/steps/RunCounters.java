package org.sat2diffusers.pipeline.steps;

/**
 * Names of the run's Beam counters (namespace {@value #NAMESPACE}): what the console progress line
 * and a runner's UI (Spark's) show while a run goes on.
 */
public final class RunCounters {
  public static final String NAMESPACE = "sat2diffusers";
  public static final String FILES_INDEXED = "files_indexed";
  public static final String TENSORS_INDEXED = "tensors_indexed";
  public static final String CHECKPOINTS_PLANNED = "checkpoints_planned";
  public static final String BYTES_PLANNED = "bytes_planned";
  public static final String SHARDS_WRITTEN = "shards_written";
  public static final String TENSORS_WRITTEN = "tensors_written";
  public static final String BYTES_READ = "bytes_read";
  public static final String BYTES_WRITTEN = "bytes_written";
  public static final String CHECKPOINTS_CONVERTED = "checkpoints_converted";
  public static final String CHECKPOINTS_FAILED = "checkpoints_failed";
  public static final String CHECKPOINTS_INVALID = "checkpoints_invalid";

  private RunCounters() {}
}
