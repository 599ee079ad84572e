package org.sat2diffusers.transforms.convert;

import java.util.List;
import java.util.Map;
import org.sat2diffusers.transforms.plan.Component;
import org.sat2diffusers.transforms.plan.OutputTensor;

/**
 * One weight file of a component, with its tensors' recipes.
 *
 * @param metadata header metadata of this file only (beside what every file of the checkpoint gets)
 */
public record PlannedShard(
    Component component, String fileName, List<OutputTensor> tensors, long bytes, Map<String, String> metadata) {
  public PlannedShard {
    tensors = List.copyOf(tensors);
    metadata = Map.copyOf(metadata);
  }

  /** A shard with only the checkpoint's common metadata. */
  public PlannedShard(Component component, String fileName, List<OutputTensor> tensors, long bytes) {
    this(component, fileName, tensors, bytes, Map.of());
  }

  /** Path inside the output folder, e.g. {@code transformer/diffusion_pytorch_model.safetensors}. */
  public String relativePath() {
    return component.folder() + "/" + fileName;
  }
}
