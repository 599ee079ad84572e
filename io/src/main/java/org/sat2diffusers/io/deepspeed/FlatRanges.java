package org.sat2diffusers.io.deepspeed;

import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.io.storage.ByteRange;

/**
 * Byte ranges laid end to end and addressed by element: a ZeRO flat group as the concatenation of
 * its per-rank partitions (ZeRO-2) or of one rank's groups (ZeRO-3), never read, only sliced.
 */
final class FlatRanges {
  private final int elementSize;
  private final List<ByteRange> pieces = new ArrayList<>();
  private final List<Long> startElements = new ArrayList<>();
  private long numel;

  FlatRanges(int elementSize) {
    this.elementSize = elementSize;
  }

  /** Appends a piece of {@code range.length() / elementSize} elements. */
  void add(ByteRange range) {
    if (range.length() % elementSize != 0) {
      throw new IllegalArgumentException(range + " is not a whole number of " + elementSize + "-byte elements");
    }
    pieces.add(range);
    startElements.add(numel);
    numel += range.length() / elementSize;
  }

  long numel() {
    return numel;
  }

  /** The ranges of elements {@code [start, start + count)}, adjacent ranges of one file merged. */
  List<ByteRange> slice(long start, long count) {
    if (start < 0 || count < 0 || start + count > numel) {
      throw new IndexOutOfBoundsException("elements " + start + "+" + count + " of " + numel);
    }
    List<ByteRange> out = new ArrayList<>();
    long end = start + count;
    for (int i = 0; i < pieces.size() && start < end; i++) {
      long pieceStart = startElements.get(i);
      long pieceEnd = pieceStart + pieces.get(i).length() / elementSize;
      if (pieceEnd <= start) {
        continue;
      }
      long from = start - pieceStart;
      long to = Math.min(end, pieceEnd) - pieceStart;
      ByteRange piece = pieces.get(i);
      append(out, new ByteRange(piece.file(), piece.offset() + from * elementSize, (to - from) * elementSize));
      start = pieceStart + to;
    }
    return out;
  }

  static void append(List<ByteRange> ranges, ByteRange next) {
    if (next.length() == 0) {
      return;
    }
    if (!ranges.isEmpty()) {
      ByteRange last = ranges.get(ranges.size() - 1);
      if (last.file().equals(next.file()) && last.end() == next.offset()) {
        ranges.set(ranges.size() - 1, new ByteRange(last.file(), last.offset(), last.length() + next.length()));
        return;
      }
    }
    ranges.add(next);
  }
}
