package org.sat2diffusers.transforms.records;

import java.util.List;

/**
 * One SAT lora2 module found in a checkpoint, for the report.
 *
 * @param module the module's full source key, e.g. {@code model.diffusion_model.transformer.layers.0.attention.query_key_value}
 * @param rank r, from the shapes
 * @param alpha the job's lora alpha
 * @param scale alpha / r, as applied (fp32)
 * @param parts number of A/B pairs (3 for query_key_value, 1 for dense)
 * @param sourceKeys every key of the module: original weight and bias, each A and B
 */
public record LoraGroup(String module, int rank, double alpha, float scale, int parts, List<String> sourceKeys) {
  public LoraGroup {
    sourceKeys = List.copyOf(sourceKeys);
  }
}
