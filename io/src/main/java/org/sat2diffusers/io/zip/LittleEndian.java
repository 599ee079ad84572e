package org.sat2diffusers.io.zip;

/** Unsigned little-endian field access, as zip headers store every number. */
final class LittleEndian {
  private LittleEndian() {}

  static int u16(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
  }

  static long u32(byte[] b, int at) {
    return (u16(b, at) | (long) u16(b, at + 2) << 16) & 0xffffffffL;
  }

  /** A ZIP64 field; values that do not fit a signed long cannot describe a real file and come back negative. */
  static long u64(byte[] b, int at) {
    return u32(b, at) | u32(b, at + 4) << 32;
  }
}
