package org.sat2diffusers.io.deepspeed;

import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.RangeCopier;
import org.sat2diffusers.io.torch.TensorRecipe;

/**
 * Run in a JVM of its own with a small heap by {@link ZeroCheckpointMemoryTest}: opens a ZeRO
 * checkpoint, streams every fp32 master through one 1 MiB buffer and prints {@code key sha256}.
 */
public final class ZeroMemoryProbe {
  private ZeroMemoryProbe() {}

  public static void main(String[] args) throws Exception {
    RangeCopier copier = new RangeCopier(1 << 20);
    for (TensorRecipe recipe : ZeroCheckpoint.open(args[0]).fp32Master()) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      try (DigestOutputStream out = new DigestOutputStream(java.io.OutputStream.nullOutputStream(), digest)) {
        for (ByteRange range : recipe.ranges()) {
          try (RandomAccessInput in = RandomAccessInputs.open(range.file())) {
            copier.copy(in, List.of(range), out);
          }
        }
      }
      System.out.println(recipe.key() + " " + recipe.ranges().size() + " " + HexFormat.of().formatHex(digest.digest()));
    }
    System.out.println("max heap " + Runtime.getRuntime().maxMemory());
  }
}
