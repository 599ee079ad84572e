package org.sat2diffusers.transforms.records;

import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.io.storage.ByteRange;

/**
 * One tensor of the converted model and the recipe for its bytes: the concatenation of
 * {@code sources} read as {@code sourceDtype}, plus {@code lora} when present, or times
 * {@code scale} when it is not 1 (computed in fp32), rounded once to {@code dtype}. Splits and
 * re-orderings are expressed as the list of source ranges.
 *
 * @param component the folder it goes to
 * @param name key in the Diffusers / transformers state dict
 * @param dtype element type written
 * @param shape shape written
 * @param sourceDtype element type of the source bytes
 * @param sources byte ranges whose concatenation, in order, is the (pre-cast, pre-LoRA) tensor
 * @param lora the LoRA update to add, or null
 * @param sourceKeys the source keys this tensor comes from (for the report)
 * @param scale factor on the source values (a LoRA B with alpha / r folded in); 1 for every other
 *     tensor, and only without {@code lora}
 */
public record OutputTensor(
    Component component,
    String name,
    Dtype dtype,
    List<Long> shape,
    Dtype sourceDtype,
    List<ByteRange> sources,
    LoraDelta lora,
    List<String> sourceKeys,
    float scale) {
  public OutputTensor {
    shape = List.copyOf(shape);
    sources = List.copyOf(sources);
    sourceKeys = List.copyOf(sourceKeys);
    if (!(scale != 0 && Float.isFinite(scale)) || (scale != 1f && lora != null)) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': scale " + scale + " must be finite, not 0, and 1 when a LoRA update is added");
    }
  }

  /** A tensor whose source values are taken as they are (scale 1). */
  public OutputTensor(
      Component component,
      String name,
      Dtype dtype,
      List<Long> shape,
      Dtype sourceDtype,
      List<ByteRange> sources,
      LoraDelta lora,
      List<String> sourceKeys) {
    this(component, name, dtype, shape, sourceDtype, sources, lora, sourceKeys, 1f);
  }

  /** This tensor with its source values multiplied by {@code factor} in fp32 before the one rounding. */
  public OutputTensor scaled(float factor) {
    return new OutputTensor(component, name, dtype, shape, sourceDtype, sources, lora, sourceKeys, factor);
  }

  /** This tensor under another name (and component folder). */
  public OutputTensor renamed(Component newComponent, String newName) {
    return new OutputTensor(newComponent, newName, dtype, shape, sourceDtype, sources, lora, sourceKeys, scale);
  }

  /** This tensor without its LoRA update: the frozen weight as the checkpoint holds it. */
  public OutputTensor withoutLora() {
    return new OutputTensor(component, name, dtype, shape, sourceDtype, sources, null, sourceKeys, scale);
  }

  public long numel() {
    return Shapes.numel(shape);
  }

  /** Bytes written for this tensor. */
  public long byteLength() {
    return Shapes.byteLength(dtype, shape);
  }

  /** True when the bytes are a plain copy of the source ranges (no cast, no LoRA, no scale). */
  public boolean isPlainCopy() {
    return lora == null && dtype == sourceDtype && scale == 1f;
  }
}
