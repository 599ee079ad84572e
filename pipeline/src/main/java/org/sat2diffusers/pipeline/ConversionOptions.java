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

  @Description("Count NaN and infinite values of every written floating-point tensor into the report.")
  @Default.Boolean(false)
  boolean getCheckFinite();

  void setCheckFinite(boolean value);

  @Description("Fail a checkpoint (nothing committed) when any written tensor holds NaN or infinity.")
  @Default.Boolean(false)
  boolean getFailOnNonfinite();

  void setFailOnNonfinite(boolean value);
}
