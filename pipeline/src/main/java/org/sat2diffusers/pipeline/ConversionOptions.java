package org.sat2diffusers.pipeline;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Run-wide choices the pipeline's workers need (they travel with the PipelineOptions to every runner). */
public interface ConversionOptions extends PipelineOptions {
  @Description("Stop the whole run at the first checkpoint that fails, instead of reporting it and going on.")
  @Default.Boolean(false)
  boolean getFailFast();

  void setFailFast(boolean value);
}
