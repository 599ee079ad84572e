package org.sat2diffusers.transforms.shard;

import java.util.List;
import org.sat2diffusers.transforms.plan.OutputTensor;

/**
 * One weight file of a component and the tensors it holds, in planning order.
 *
 * @param fileName e.g. {@code diffusion_pytorch_model-00001-of-00003.safetensors}
 * @param tensors the tensors it holds
 * @param bytes sum of the tensors' byte lengths (what huggingface_hub counts, headers excluded)
 */
public record ShardPlan(String fileName, List<OutputTensor> tensors, long bytes) {
  public ShardPlan {
    tensors = List.copyOf(tensors);
  }
}
