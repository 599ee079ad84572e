package org.sat2diffusers.io.zip;

/**
 * One central-directory entry, sizes and offset already widened from ZIP64 extra fields.
 *
 * @param name full entry name, e.g. {@code mp_rank_00_model_states/data/12}
 * @param method compression method (0 = STORED)
 * @param flags general purpose bit flags
 * @param compressedSize bytes of the entry's data as stored
 * @param uncompressedSize bytes of the entry's data once decompressed
 * @param localHeaderOffset absolute offset of the entry's local file header
 * @param crc32 the CRC-32 of the uncompressed data, as the directory records it
 */
public record ZipEntryInfo(
    String name, int method, int flags, long compressedSize, long uncompressedSize, long localHeaderOffset,
    long crc32) {

  public static final int STORED = 0;

  public boolean encrypted() {
    return (flags & 1) != 0;
  }
}
