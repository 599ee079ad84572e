package org.sat2diffusers.transforms.records;

import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;

/**
 * The low-rank update SAT lora2 keeps beside a frozen weight: {@code cat_i(B_i @ A_i) * scale}.
 *
 * @param dtype element type of every A and B
 * @param a per part i, the bytes of {@code matrix_A.i}, shape [rank, inFeatures]
 * @param b per part i, the bytes of {@code matrix_B.i}, shape [outPerPart, rank]
 * @param rank r, from the shapes
 * @param inFeatures columns of the weight
 * @param outPerPart rows each part contributes (weight rows / number of parts)
 * @param alpha the job's lora alpha
 * @param scale alpha / rank, as applied (fp32)
 */
public record LoraDelta(
    Dtype dtype,
    List<ByteRange> a,
    List<ByteRange> b,
    int rank,
    long inFeatures,
    long outPerPart,
    double alpha,
    float scale) {
  public LoraDelta {
    a = List.copyOf(a);
    b = List.copyOf(b);
    if (a.size() != b.size() || a.isEmpty()) {
      throw new IllegalArgumentException("LoRA needs as many A as B parts, at least one");
    }
  }

  public int parts() {
    return a.size();
  }
}
