package org.sat2diffusers.transforms.parallel;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.torch.TensorRanges;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.transforms.records.SourceTensor;

/**
 * Checks that every replicated tensor has the same bytes on every model-parallel rank, as SAT keeps
 * them (the conversion takes rank 0's copy): a difference means the ranks do not make one model.
 * Compares rank 0's bytes with each other rank's directly, through one buffer, stopping at the first
 * difference; the only part of a conversion plan that reads tensor data.
 */
public final class ReplicaCheck {
  private static final int BUFFER_BYTES = 1 << 20;

  private ReplicaCheck() {}

  /** @throws IllegalArgumentException naming the tensor, the two ranks and their files at the first difference */
  public static void verify(List<ReplicatedTensor> replicated, SourceOpener opener) throws IOException {
    Map<String, RandomAccessInput> inputs = new HashMap<>();
    try {
      byte[] expected = new byte[BUFFER_BYTES];
      byte[] actual = new byte[BUFFER_BYTES];
      for (ReplicatedTensor t : replicated) {
        SourceTensor rank0 = t.ranks().get(0);
        for (int r = 1; r < t.ranks().size(); r++) {
          long at = firstDifference(rank0, t.ranks().get(r), opener, inputs, expected, actual);
          if (at >= 0) {
            throw new IllegalArgumentException(String.format(
                "replicated tensor '%s' differs between model-parallel ranks 00 (%s) and %02d (%s), first at byte %d"
                    + " of %d: SAT keeps it identical on every rank, so these files do not make one model",
                t.key(), rank0.file(), r, t.ranks().get(r).file(), at, rank0.tensor().byteLength()));
          }
        }
      }
    } finally {
      for (RandomAccessInput in : inputs.values()) {
        in.close();
      }
    }
  }

  /** Byte offset of the first difference within the tensors' element bytes, or -1 when equal. */
  private static long firstDifference(SourceTensor a, SourceTensor b, SourceOpener opener,
      Map<String, RandomAccessInput> inputs, byte[] bufA, byte[] bufB) throws IOException {
    Cursor ca = new Cursor(TensorRanges.ranges(a.file(), a.tensor()), input(a.file(), opener, inputs));
    Cursor cb = new Cursor(TensorRanges.ranges(b.file(), b.tensor()), input(b.file(), opener, inputs));
    long total = a.tensor().byteLength();
    for (long done = 0; done < total; ) {
      int n = (int) Math.min(bufA.length, total - done);
      ca.read(bufA, n);
      cb.read(bufB, n);
      int at = Arrays.mismatch(bufA, 0, n, bufB, 0, n);
      if (at >= 0) {
        return done + at;
      }
      done += n;
    }
    return -1;
  }

  private static RandomAccessInput input(String file, SourceOpener opener, Map<String, RandomAccessInput> inputs)
      throws IOException {
    RandomAccessInput in = inputs.get(file);
    if (in == null) {
      in = opener.open(file);
      inputs.put(file, in);
    }
    return in;
  }

  /** Reads the concatenation of ranges front to back. */
  private static final class Cursor {
    private final List<ByteRange> ranges;
    private final RandomAccessInput in;
    private int index;
    private long offsetInRange;

    Cursor(List<ByteRange> ranges, RandomAccessInput in) {
      this.ranges = ranges;
      this.in = in;
    }

    void read(byte[] buf, int length) throws IOException {
      for (int filled = 0; filled < length; ) {
        ByteRange r = ranges.get(index);
        int n = (int) Math.min(length - filled, r.length() - offsetInRange);
        in.readFully(r.offset() + offsetInRange, buf, filled, n);
        filled += n;
        offsetInRange += n;
        if (offsetInRange == r.length()) {
          index++;
          offsetInRange = 0;
        }
      }
    }
  }
}
