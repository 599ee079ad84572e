package org.sat2diffusers.pipeline.steps;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * The run-wide choice the pipeline's workers need, set from {@code convert --fail-fast} (it travels
 * with the PipelineOptions to every runner). Everything that is chosen per job travels in the job.
 */
public interface ConversionOptions extends PipelineOptions {
  /** What {@code --fail-fast} does: its help, and this option's description. */
  String FAIL_FAST = "Stop the run at the first checkpoint that fails (default: report it and convert the others).";

  @Description(FAIL_FAST)
  @Default.Boolean(false)
  boolean getFailFast();

  void setFailFast(boolean value);
}
