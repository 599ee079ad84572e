package org.sat2diffusers.transforms.plan;

import java.util.EnumMap;
import java.util.Map;
import org.sat2diffusers.io.dtype.Dtype;

/**
 * The choices a conversion job makes.
 *
 * @param loraAlpha lora alpha (not stored by SAT; its default is 1, so the scale is 1/r)
 * @param dtypes per component, the dtype floating-point tensors are cast to; absent means keep
 * @param learnedPositionEmbedding keep {@code patch_embed.pos_embedding} (models with learned positions);
 *     otherwise it is the frozen sincos table and is dropped
 */
public record PlanOptions(double loraAlpha, Map<Component, Dtype> dtypes, boolean learnedPositionEmbedding) {
  public PlanOptions {
    if (!(loraAlpha > 0) || Double.isInfinite(loraAlpha)) {
      throw new IllegalArgumentException("lora alpha must be a positive number, got " + loraAlpha);
    }
    dtypes = Map.copyOf(dtypes);
  }

  /** Alpha 1, every dtype kept, the position table treated as sincos. */
  public static PlanOptions defaults() {
    return new PlanOptions(1.0, Map.of(), false);
  }

  public PlanOptions withLoraAlpha(double alpha) {
    return new PlanOptions(alpha, dtypes, learnedPositionEmbedding);
  }

  public PlanOptions withLearnedPositionEmbedding(boolean learned) {
    return new PlanOptions(loraAlpha, dtypes, learned);
  }

  public PlanOptions withDtype(Component component, Dtype dtype) {
    Map<Component, Dtype> map = new EnumMap<>(Component.class);
    map.putAll(dtypes);
    map.put(component, dtype);
    return new PlanOptions(loraAlpha, map, learnedPositionEmbedding);
  }

  /** The command line's {@code --dtype} (transformer and text encoder); null keeps. */
  public PlanOptions withModelDtype(Dtype dtype) {
    return dtype == null ? this : withDtype(Component.TRANSFORMER, dtype).withDtype(Component.TEXT_ENCODER, dtype);
  }

  /** The command line's {@code --vae-dtype}; null keeps (the VAE stays fp32 unless asked). */
  public PlanOptions withVaeDtype(Dtype dtype) {
    return dtype == null ? this : withDtype(Component.VAE, dtype);
  }
}
