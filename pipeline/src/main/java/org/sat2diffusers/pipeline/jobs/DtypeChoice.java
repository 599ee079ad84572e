package org.sat2diffusers.pipeline.jobs;

import org.sat2diffusers.io.dtype.Dtype;

/** The values of --dtype and --vae-dtype. */
public enum DtypeChoice {
  keep(null),
  bf16(Dtype.BF16),
  fp16(Dtype.F16),
  fp32(Dtype.F32);

  private final Dtype dtype;

  DtypeChoice(Dtype dtype) {
    this.dtype = dtype;
  }

  /** The target dtype, or null to keep each tensor's own. */
  public Dtype dtype() {
    return dtype;
  }
}
