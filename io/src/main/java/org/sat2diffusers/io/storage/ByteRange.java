package org.sat2diffusers.io.storage;

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
}
