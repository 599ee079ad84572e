package org.sat2diffusers.transforms.plan;

import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.io.storage.ByteRange;

/**
 * One tensor of the converted model and the recipe for its bytes: the concatenation of
 * {@code sources} read as {@code sourceDtype}, plus {@code lora} when present (computed in fp32),
 * rounded once to {@code dtype}. Splits and re-orderings are expressed as the list of source ranges.
 *
 * @param component the folder it goes to
 * @param name key in the Diffusers / transformers state dict
 * @param dtype element type written
 * @param shape shape written
 * @param sourceDtype element type of the source bytes
 * @param sources byte ranges whose concatenation, in order, is the (pre-cast, pre-LoRA) tensor
 * @param lora the LoRA update to add, or null
 * @param sourceKeys the source keys this tensor comes from (for the report)
 */
public record OutputTensor(
    Component component,
    String name,
    Dtype dtype,
    List<Long> shape,
    Dtype sourceDtype,
    List<ByteRange> sources,
    LoraDelta lora,
    List<String> sourceKeys) {
  public OutputTensor {
    shape = List.copyOf(shape);
    sources = List.copyOf(sources);
    sourceKeys = List.copyOf(sourceKeys);
  }

  public long numel() {
    return Shapes.numel(shape);
  }

  /** Bytes written for this tensor. */
  public long byteLength() {
    return Shapes.byteLength(dtype, shape);
  }

  /** True when the bytes are a plain copy of the source ranges (no cast, no LoRA). */
  public boolean isPlainCopy() {
    return lora == null && dtype == sourceDtype;
  }
}
