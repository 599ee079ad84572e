package org.sat2diffusers.transforms.records;

import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;

/**
 * The low-rank update SAT lora2 keeps beside a frozen weight: {@code cat_i(B_i @ A_i) * scale}.
 *
 * @param dtype element type of every A and B
 * @param a per part i, the byte ranges of {@code matrix_A.i}, shape [rank, inFeatures] (one range in a
 *     torch file; several when a reader assembled it, e.g. from ZeRO partitions)
 * @param b per part i, the byte ranges of {@code matrix_B.i}, shape [outPerPart, rank]
 * @param rank r, from the shapes
 * @param inFeatures columns of the weight
 * @param outPerPart rows each part contributes (weight rows / number of parts)
 * @param alpha the job's lora alpha
 * @param scale alpha / rank, as applied (fp32)
 */
public record LoraDelta(
    Dtype dtype,
    List<List<ByteRange>> a,
    List<List<ByteRange>> b,
    int rank,
    long inFeatures,
    long outPerPart,
    double alpha,
    float scale) {
  public LoraDelta {
    a = a.stream().map(List::copyOf).toList();
    b = b.stream().map(List::copyOf).toList();
    if (a.size() != b.size() || a.isEmpty()) {
      throw new IllegalArgumentException("LoRA needs as many A as B parts, at least one");
    }
  }

  public int parts() {
    return a.size();
  }
}
