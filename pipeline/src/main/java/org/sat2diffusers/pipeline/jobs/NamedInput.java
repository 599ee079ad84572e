package org.sat2diffusers.pipeline.jobs;

/**
 * A file or folder a run reads besides the checkpoints (a job's SAT config or base pipeline, the
 * manifest), with the name messages cite it by ({@code --sat-config}, {@code sat_config (job at line 3)}).
 * The output overlap check also names its sources and write targets this way ({@code output folder}).
 *
 * @param path the path, resolved as the job resolves its paths
 * @param name what it is
 */
public record NamedInput(String path, String name) {}
