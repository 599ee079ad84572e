package org.sat2diffusers.pipeline.steps;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.sat2diffusers.io.safetensors.Digest;

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

  @Description("The checksum kept of each written header and tensor: CRC32C (fast, for integrity) or SHA256.")
  @Default.Enum("CRC32C")
  Digest getDigest();

  void setDigest(Digest value);
}
