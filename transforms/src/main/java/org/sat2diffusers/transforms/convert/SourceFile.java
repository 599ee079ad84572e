package org.sat2diffusers.transforms.convert;

import java.util.List;
import org.sat2diffusers.io.torch.TensorRecord;

/**
 * One indexed checkpoint file.
 *
 * @param path where it is
 * @param wrapper the key that held the state dict ({@code module}, ...), or empty for the top level
 * @param tensors its tensor records in state-dict order
 */
public record SourceFile(String path, String wrapper, List<TensorRecord> tensors) {
  public SourceFile {
    tensors = List.copyOf(tensors);
  }
}
