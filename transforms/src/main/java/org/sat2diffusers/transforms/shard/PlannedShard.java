package org.sat2diffusers.transforms.shard;

import java.util.List;
import java.util.Map;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * One weight file of a component and the recipes of the tensors it holds, in planning order.
 *
 * @param fileName e.g. {@code diffusion_pytorch_model-00001-of-00003.safetensors}
 * @param bytes sum of the tensors' byte lengths (what huggingface_hub counts, headers excluded)
 * @param metadata header metadata of this file only (beside what every file of the checkpoint gets)
 */
public record PlannedShard(
    Component component, String fileName, List<OutputTensor> tensors, long bytes, Map<String, String> metadata) {
  public PlannedShard {
    tensors = List.copyOf(tensors);
    metadata = Map.copyOf(metadata);
  }

  /** A shard with only the checkpoint's common metadata; its bytes are its tensors'. */
  public PlannedShard(Component component, String fileName, List<OutputTensor> tensors) {
    this(component, fileName, tensors, tensors.stream().mapToLong(OutputTensor::byteLength).sum(), Map.of());
  }

  /** Path inside the output folder, e.g. {@code transformer/diffusion_pytorch_model.safetensors}. */
  public String relativePath() {
    return component.folder() + "/" + fileName;
  }
}
