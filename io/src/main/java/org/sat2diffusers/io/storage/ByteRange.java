package org.sat2diffusers.io.storage;

import java.util.ArrayList;
import java.util.List;

/** A contiguous run of bytes in one file: where a tensor (or a part of one) lives. */
public record ByteRange(String file, long offset, long length) {
  public ByteRange {
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException("negative byte range " + offset + "+" + length + " in " + file);
    }
  }

  public long end() {
    return offset + length;
  }

  /** The bytes {@code [start, start + length)} of the concatenation of {@code ranges}, as ranges. */
  public static List<ByteRange> slice(List<ByteRange> ranges, long start, long length) {
    List<ByteRange> out = new ArrayList<>();
    long pos = 0;
    long end = start + length;
    for (ByteRange r : ranges) {
      long from = Math.max(start, pos);
      long to = Math.min(end, pos + r.length());
      if (from < to) {
        out.add(new ByteRange(r.file(), r.offset() + (from - pos), to - from));
      }
      pos += r.length();
    }
    return out;
  }

  /** The total length of {@code ranges}. */
  public static long length(List<ByteRange> ranges) {
    return ranges.stream().mapToLong(ByteRange::length).sum();
  }
}
