package org.sat2diffusers.transforms.records;

import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.io.storage.ByteRange;

/**
 * A tensor in one component's key space while the rules work on it: its current key, its bytes as
 * source ranges, and the LoRA update it still carries. Slicing rows and concatenating slices only
 * rearranges ranges, so every split or re-ordering stays a recipe of byte ranges.
 *
 * @param key key inside the component (prefix stripped; renamed as the rules go)
 * @param dtype element type of the source bytes
 * @param shape sizes per dimension
 * @param sources byte ranges whose concatenation is the tensor
 * @param lora LoRA update to add to these rows, or null
 * @param sourceKeys every source key this tensor is made of
 * @param origin the source tensor it comes from (the frozen weight for a LoRA merge)
 */
public record ComponentTensor(
    String key,
    Dtype dtype,
    List<Long> shape,
    List<ByteRange> sources,
    LoraDelta lora,
    List<String> sourceKeys,
    SourceTensor origin) {
  public ComponentTensor {
    shape = List.copyOf(shape);
    sources = List.copyOf(sources);
    sourceKeys = List.copyOf(sourceKeys);
  }

  /**
   * A source tensor as it enters a component, under its key inside that component. A strided view
   * has no byte ranges; that only matters (and fails) if it becomes an output.
   */
  public static ComponentTensor of(String key, SourceTensor source) {
    List<ByteRange> ranges = source.tensor().contiguous() ? source.byteRanges() : List.of();
    return new ComponentTensor(
        key, source.tensor().dtype(), source.tensor().shape(), ranges, null, List.of(source.key()), source);
  }

  public ComponentTensor withKey(String newKey) {
    return new ComponentTensor(newKey, dtype, shape, sources, lora, sourceKeys, origin);
  }

  public long rows() {
    if (shape.isEmpty()) {
      throw new IllegalArgumentException("tensor '" + sourceKeys.get(0) + "' is a scalar: it has no rows to split");
    }
    return shape.get(0);
  }

  /** Bytes of one row (one index along dim 0). */
  public long rowBytes() {
    return Shapes.byteLength(dtype, shape.isEmpty() ? shape : shape.subList(1, shape.size()));
  }

  /** Rows {@code [first, first + count)} along dim 0, under key {@code newKey}. */
  public ComponentTensor rows(String newKey, long first, long count) {
    if (first < 0 || count <= 0 || first + count > rows()) {
      throw new IllegalArgumentException(
          "rows " + first + ".." + (first + count) + " out of range for '" + sourceKeys.get(0) + "' " + shape);
    }
    List<Long> sliced = new ArrayList<>(shape);
    sliced.set(0, count);
    return new ComponentTensor(
        newKey, dtype, sliced, slice(first * rowBytes(), count * rowBytes()),
        lora == null ? null : sliceLora(first, count), sourceKeys, origin);
  }

  /** Splits dim 0 into {@code chunks} equal parts, as torch.chunk does when it divides evenly. */
  public List<ComponentTensor> chunks(int chunks) {
    if (rows() % chunks != 0) {
      throw new IllegalArgumentException(
          "tensor '" + sourceKeys.get(0) + "' " + shape + ": dim 0 does not split into " + chunks + " equal chunks");
    }
    long size = rows() / chunks;
    List<ComponentTensor> out = new ArrayList<>();
    for (int i = 0; i < chunks; i++) {
      out.add(rows(key, i * size, size));
    }
    return out;
  }

  /** Concatenates row slices along dim 0 (torch.cat); they must agree in dtype and trailing dims. */
  public static ComponentTensor concatRows(String key, List<ComponentTensor> parts) {
    ComponentTensor first = parts.get(0);
    long rows = 0;
    List<ByteRange> ranges = new ArrayList<>();
    for (ComponentTensor p : parts) {
      if (p.lora != null) {
        throw new IllegalArgumentException("cannot concatenate LoRA-merged rows of '" + p.sourceKeys.get(0) + "'");
      }
      if (p.dtype != first.dtype || !p.shape.subList(1, p.shape.size()).equals(first.shape.subList(1, first.shape.size()))) {
        throw new IllegalArgumentException(
            "cannot concatenate " + p.dtype + p.shape + " with " + first.dtype + first.shape + " for '" + key + "'");
      }
      rows += p.rows();
      ranges.addAll(p.sources);
    }
    List<Long> shape = new ArrayList<>(first.shape);
    shape.set(0, rows);
    return new ComponentTensor(key, first.dtype, shape, ranges, null, first.sourceKeys, first.origin);
  }

  /** The byte interval {@code [start, start + length)} of the concatenated sources, as ranges. */
  private List<ByteRange> slice(long start, long length) {
    return ByteRange.slice(sources, start, length);
  }

  /**
   * The LoRA parts covering rows {@code [first, first + count)}: whole parts, or rows inside one
   * part (B's rows are then a sub-range; A is shared).
   */
  private LoraDelta sliceLora(long first, long count) {
    long per = lora.outPerPart();
    if (first % per == 0 && count % per == 0) {
      int from = (int) (first / per);
      int to = (int) ((first + count) / per);
      return new LoraDelta(
          lora.dtype(), lora.a().subList(from, to), lora.b().subList(from, to), lora.rank(),
          lora.inFeatures(), per, lora.alpha(), lora.scale());
    }
    int part = (int) (first / per);
    if ((first + count - 1) / per != part) {
      throw new IllegalArgumentException(
          "rows " + first + ".." + (first + count) + " of '" + sourceKeys.get(0)
              + "' straddle LoRA parts of " + per + " rows");
    }
    long bRow = (long) lora.rank() * lora.dtype().size();
    List<ByteRange> bRows = ByteRange.slice(lora.b().get(part), (first - part * per) * bRow, count * bRow);
    return new LoraDelta(
        lora.dtype(), List.of(lora.a().get(part)), List.of(bRows), lora.rank(), lora.inFeatures(), count,
        lora.alpha(), lora.scale());
  }
}
