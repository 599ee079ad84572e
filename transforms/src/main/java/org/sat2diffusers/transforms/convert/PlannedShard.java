package org.sat2diffusers.transforms.convert;

import java.util.List;
import org.sat2diffusers.transforms.plan.Component;
import org.sat2diffusers.transforms.plan.OutputTensor;

/** One weight file of a component, with its tensors' recipes. */
public record PlannedShard(Component component, String fileName, List<OutputTensor> tensors, long bytes) {
  public PlannedShard {
    tensors = List.copyOf(tensors);
  }

  /** Path inside the output folder, e.g. {@code transformer/diffusion_pytorch_model.safetensors}. */
  public String relativePath() {
    return component.folder() + "/" + fileName;
  }
}
