package org.sat2diffusers.io.zip;

import static org.sat2diffusers.io.zip.LittleEndian.u16;
import static org.sat2diffusers.io.zip.LittleEndian.u32;
import static org.sat2diffusers.io.zip.LittleEndian.u64;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;

/**
 * The directory of a zip archive as torch.save writes it: one top folder, STORED entries, ZIP64 when
 * large. Reading it touches only the end records and the central directory; {@link #dataRange}
 * then reads one entry's local header (never its data) to find where the data starts.
 */
public final class ZipArchive {
  /** A central directory larger than this is not a checkpoint's (a 5B model's is ~150 KB). */
  public static final long MAX_CENTRAL_DIRECTORY_BYTES = 64L << 20;

  private static final int EOCD_SIGNATURE = 0x06054b50;
  private static final int EOCD_BYTES = 22;
  private static final int MAX_COMMENT_BYTES = 0xffff;
  private static final int ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
  private static final int ZIP64_LOCATOR_BYTES = 20;
  private static final int ZIP64_EOCD_SIGNATURE = 0x06064b50;
  private static final int ZIP64_EOCD_BYTES = 56;
  private static final int CENTRAL_SIGNATURE = 0x02014b50;
  private static final int CENTRAL_BYTES = 46;
  private static final int LOCAL_SIGNATURE = 0x04034b50;
  private static final int LOCAL_BYTES = 30;
  private static final int ZIP64_EXTRA_ID = 0x0001;
  private static final long U32_MAX = 0xffffffffL;

  private final RandomAccessInput in;
  private final String topFolder;
  private final long centralDirectoryOffset;
  private final long centralDirectorySize;
  private final Map<String, ZipEntryInfo> entries;

  private ZipArchive(RandomAccessInput in, String topFolder, long centralDirectoryOffset, long centralDirectorySize,
      Map<String, ZipEntryInfo> entries) {
    this.in = in;
    this.topFolder = topFolder;
    this.centralDirectoryOffset = centralDirectoryOffset;
    this.centralDirectorySize = centralDirectorySize;
    this.entries = entries;
  }

  /** Reads and validates the directory of {@code in}; the archive reads from {@code in} later, so keep it open. */
  public static ZipArchive read(RandomAccessInput in) throws IOException {
    long size = in.size();
    EndRecord endRecord = findEndOfCentralDirectory(in, size);
    long eocd = endRecord.position();
    byte[] end = endRecord.bytes();
    if (u16(end, 4) != 0 || u16(end, 6) != 0) {
      throw new ZipFormatException(in.path() + ": multi-disk zip archives are not supported");
    }
    long entryCount = u16(end, 10);
    long cdSize = u32(end, 12);
    long cdOffset = u32(end, 16);
    long cdLimit = eocd; // the central directory must end before the record that points to it
    if (eocd >= ZIP64_LOCATOR_BYTES) {
      byte[] locator = read(in, eocd - ZIP64_LOCATOR_BYTES, ZIP64_LOCATOR_BYTES);
      if (u32(locator, 0) == ZIP64_LOCATOR_SIGNATURE) {
        long record = u64(locator, 8);
        if (u32(locator, 4) != 0 || u32(locator, 16) != 1) {
          throw new ZipFormatException(in.path() + ": multi-disk zip archives are not supported");
        }
        if (record < 0 || record > eocd - ZIP64_LOCATOR_BYTES - ZIP64_EOCD_BYTES) {
          throw new ZipFormatException(
              in.path() + ": ZIP64 end record offset " + record + " is outside the file");
        }
        byte[] zip64 = read(in, record, ZIP64_EOCD_BYTES);
        if (u32(zip64, 0) != ZIP64_EOCD_SIGNATURE) {
          throw new ZipFormatException(in.path() + ": no ZIP64 end record at offset " + record);
        }
        if (u32(zip64, 16) != 0 || u32(zip64, 20) != 0) {
          throw new ZipFormatException(in.path() + ": multi-disk zip archives are not supported");
        }
        entryCount = zip64Field(in.path(), "entry count", entryCount, 0xffff, u64(zip64, 32));
        cdSize = zip64Field(in.path(), "central directory size", cdSize, U32_MAX, u64(zip64, 40));
        cdOffset = zip64Field(in.path(), "central directory offset", cdOffset, U32_MAX, u64(zip64, 48));
        cdLimit = record;
      }
    }
    if (cdSize < 0 || cdOffset < 0 || cdOffset > cdLimit - cdSize) {
      throw new ZipFormatException(
          in.path() + ": central directory (" + cdSize + " bytes at offset " + cdOffset
              + ") does not fit before its end record at " + cdLimit);
    }
    if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES) {
      throw new ZipFormatException(
          in.path() + ": central directory of " + cdSize + " bytes exceeds the limit of "
              + MAX_CENTRAL_DIRECTORY_BYTES);
    }
    if (entryCount < 0 || entryCount > cdSize / CENTRAL_BYTES) {
      throw new ZipFormatException(
          in.path() + ": " + entryCount + " entries cannot fit in a central directory of " + cdSize + " bytes");
    }
    byte[] cd = read(in, cdOffset, (int) cdSize);
    Map<String, ZipEntryInfo> entries = parseCentralDirectory(in.path(), cd, (int) entryCount, cdOffset);
    checkNoOverlap(in.path(), entries.values());
    String top = topFolder(in.path(), entries);
    return new ZipArchive(in, top, cdOffset, cdSize, Collections.unmodifiableMap(entries));
  }

  public String path() {
    return in.path();
  }

  /** Where the central directory is (at most {@link #MAX_CENTRAL_DIRECTORY_BYTES}). */
  public ByteRange centralDirectory() {
    return new ByteRange(path(), centralDirectoryOffset, centralDirectorySize);
  }

  /** The folder every entry is under, e.g. {@code mp_rank_00_model_states} (no slash). */
  public String topFolder() {
    return topFolder;
  }

  /** All entries, in central-directory order. */
  public List<ZipEntryInfo> entries() {
    return List.copyOf(entries.values());
  }

  public Optional<ZipEntryInfo> entry(String name) {
    return Optional.ofNullable(entries.get(name));
  }

  /** The entry called {@code name}; a ZipFormatException naming the file and the entry when absent. */
  public ZipEntryInfo require(String name) throws ZipFormatException {
    ZipEntryInfo entry = entries.get(name);
    if (entry == null) {
      throw new ZipFormatException(path() + ": no entry '" + name + "' in the archive");
    }
    return entry;
  }

  /**
   * Where {@code entry}'s bytes are in the file. Reads the local header (30 bytes + the name) since
   * its extra field, which torch uses to align data to 64 bytes, may differ from the central one.
   * Only STORED, unencrypted entries have their bytes at a fixed range.
   */
  public ByteRange dataRange(ZipEntryInfo entry) throws IOException {
    String where = path() + ": entry '" + entry.name() + "'";
    if (entry.encrypted()) {
      throw new ZipFormatException(where + " is encrypted");
    }
    if (entry.method() != ZipEntryInfo.STORED) {
      throw new ZipFormatException(
          where + " is compressed (method " + entry.method() + "); torch checkpoints store entries"
              + " uncompressed (STORED), so it cannot be read by byte range");
    }
    if (entry.compressedSize() != entry.uncompressedSize()) {
      throw new ZipFormatException(
          where + " is STORED but its sizes differ (" + entry.compressedSize() + " stored, "
              + entry.uncompressedSize() + " uncompressed)");
    }
    byte[] name = entry.name().getBytes(StandardCharsets.UTF_8);
    if (entry.localHeaderOffset() > centralDirectoryOffset - LOCAL_BYTES - name.length) {
      throw new ZipFormatException(
          where + ": local header offset " + entry.localHeaderOffset() + " is not before the central directory");
    }
    byte[] header = read(in, entry.localHeaderOffset(), LOCAL_BYTES + name.length);
    if (u32(header, 0) != LOCAL_SIGNATURE) {
      throw new ZipFormatException(where + ": no local header at offset " + entry.localHeaderOffset());
    }
    int nameLength = u16(header, 26);
    if (nameLength != name.length
        || !Arrays.equals(header, LOCAL_BYTES, LOCAL_BYTES + name.length, name, 0, name.length)) {
      throw new ZipFormatException(where + ": the local header names a different entry");
    }
    long dataOffset = entry.localHeaderOffset() + LOCAL_BYTES + nameLength + u16(header, 28);
    if (dataOffset > centralDirectoryOffset - entry.compressedSize()) {
      throw new ZipFormatException(
          where + ": its " + entry.compressedSize() + " bytes at offset " + dataOffset
              + " run past the start of the central directory at " + centralDirectoryOffset);
    }
    return new ByteRange(path(), dataOffset, entry.compressedSize());
  }

  /** Reads a whole STORED entry into memory, refusing entries larger than {@code maxBytes} or whose CRC-32 is wrong. */
  public byte[] readEntry(ZipEntryInfo entry, int maxBytes) throws IOException {
    ByteRange range = dataRange(entry);
    if (range.length() > maxBytes) {
      throw new ZipFormatException(
          path() + ": entry '" + entry.name() + "' has " + range.length() + " bytes, more than the limit of "
              + maxBytes);
    }
    byte[] bytes = read(in, range.offset(), (int) range.length());
    CRC32 crc = new CRC32();
    crc.update(bytes);
    if (crc.getValue() != entry.crc32()) {
      throw new ZipFormatException(String.format(
          "%s: entry '%s' is corrupt: its CRC-32 is %08x, the directory says %08x", path(), entry.name(),
          crc.getValue(), entry.crc32()));
    }
    return bytes;
  }

  private record EndRecord(long position, byte[] bytes) {}

  /**
   * The ZIP64 value of an end-record field. Writers (torch's included) may fill the classic field too:
   * unless saturated, it must then agree, or one of the two records lies about the directory.
   */
  private static long zip64Field(String path, String what, long classic, long saturated, long zip64)
      throws ZipFormatException {
    if (classic != saturated && classic != zip64) {
      throw new ZipFormatException(
          path + ": the end record's " + what + " (" + classic + ") differs from the ZIP64 end record's (" + zip64 + ")");
    }
    return zip64;
  }

  private static EndRecord findEndOfCentralDirectory(RandomAccessInput in, long size) throws IOException {
    if (size < EOCD_BYTES) {
      throw new ZipFormatException(in.path() + ": too small to be a zip archive (" + size + " bytes)");
    }
    // torch writes no archive comment, so the record is usually the last 22 bytes
    byte[] last = read(in, size - EOCD_BYTES, EOCD_BYTES);
    if (u32(last, 0) == EOCD_SIGNATURE && u16(last, 20) == 0) {
      return new EndRecord(size - EOCD_BYTES, last);
    }
    int tail = (int) Math.min(size, EOCD_BYTES + MAX_COMMENT_BYTES);
    byte[] bytes = read(in, size - tail, tail);
    for (int at = tail - EOCD_BYTES; at >= 0; at--) {
      if (u32(bytes, at) == EOCD_SIGNATURE && at + EOCD_BYTES + u16(bytes, at + 20) == tail) {
        return new EndRecord(size - tail + at, Arrays.copyOfRange(bytes, at, at + EOCD_BYTES));
      }
    }
    throw new ZipFormatException(in.path() + ": not a zip archive (no end of central directory record)");
  }

  private static Map<String, ZipEntryInfo> parseCentralDirectory(
      String path, byte[] cd, int entryCount, long cdOffset) throws ZipFormatException {
    Map<String, ZipEntryInfo> entries = new LinkedHashMap<>();
    int at = 0;
    for (int i = 0; i < entryCount; i++) {
      if (at > cd.length - CENTRAL_BYTES || u32(cd, at) != CENTRAL_SIGNATURE) {
        throw new ZipFormatException(
            path + ": central directory entry " + i + " at offset " + (cdOffset + at) + " is malformed");
      }
      int nameLength = u16(cd, at + 28);
      int extraLength = u16(cd, at + 30);
      int commentLength = u16(cd, at + 32);
      int next = at + CENTRAL_BYTES + nameLength + extraLength + commentLength;
      if (next > cd.length) {
        throw new ZipFormatException(
            path + ": central directory entry " + i + " runs past the end of the directory");
      }
      String name = new String(cd, at + CENTRAL_BYTES, nameLength, StandardCharsets.UTF_8);
      long[] fields = {u32(cd, at + 24), u32(cd, at + 20), u32(cd, at + 42), u16(cd, at + 34)};
      widenZip64(path, name, cd, at + CENTRAL_BYTES + nameLength, extraLength, fields);
      if (fields[3] != 0) {
        throw new ZipFormatException(path + ": entry '" + name + "' starts on another disk");
      }
      ZipEntryInfo entry = new ZipEntryInfo(
          name, u16(cd, at + 10), u16(cd, at + 8), fields[1], fields[0], fields[2], u32(cd, at + 16));
      checkEntry(path, entry, cdOffset);
      if (entries.put(name, entry) != null) {
        throw new ZipFormatException(path + ": entry '" + name + "' appears twice in the archive");
      }
      at = next;
    }
    return entries;
  }

  /**
   * Replaces each of {uncompressed size, compressed size, local header offset, disk} that is
   * saturated (0xFFFFFFFF, or 0xFFFF for the disk) by the next 8 (4 for the disk) bytes of the
   * ZIP64 extra field, in that order, as the format specifies.
   */
  private static void widenZip64(String path, String name, byte[] cd, int extra, int extraLength, long[] fields)
      throws ZipFormatException {
    boolean needed = fields[0] == U32_MAX || fields[1] == U32_MAX || fields[2] == U32_MAX || fields[3] == 0xffff;
    int end = extra + extraLength;
    for (int at = extra; at + 4 <= end; ) {
      int id = u16(cd, at);
      int length = u16(cd, at + 2);
      int data = at + 4;
      if (data + length > end) {
        throw new ZipFormatException(path + ": entry '" + name + "' has a malformed extra field");
      }
      if (id == ZIP64_EXTRA_ID) {
        int field = data;
        for (int i = 0; i < fields.length; i++) {
          boolean saturated = i == 3 ? fields[i] == 0xffff : fields[i] == U32_MAX;
          if (!saturated) {
            continue;
          }
          int width = i == 3 ? 4 : 8;
          if (field + width > data + length) {
            throw new ZipFormatException(path + ": entry '" + name + "' has a truncated ZIP64 extra field");
          }
          fields[i] = width == 8 ? u64(cd, field) : u32(cd, field);
          field += width;
        }
        return;
      }
      at = data + length;
    }
    if (needed) {
      throw new ZipFormatException(
          path + ": entry '" + name + "' has saturated sizes or offset but no ZIP64 extra field");
    }
  }

  /**
   * Entries may not share bytes: each needs at least its local header, its name and its data before
   * the next one starts (the local extra field can only make it longer).
   */
  private static void checkNoOverlap(String path, Collection<ZipEntryInfo> entries) throws ZipFormatException {
    List<ZipEntryInfo> byOffset = new ArrayList<>(entries);
    byOffset.sort(Comparator.comparingLong(ZipEntryInfo::localHeaderOffset));
    for (int i = 1; i < byOffset.size(); i++) {
      ZipEntryInfo previous = byOffset.get(i - 1);
      ZipEntryInfo next = byOffset.get(i);
      long end = previous.localHeaderOffset() + LOCAL_BYTES + previous.name().getBytes(StandardCharsets.UTF_8).length
          + previous.compressedSize();
      if (next.localHeaderOffset() < end) {
        throw new ZipFormatException(path + ": entries '" + previous.name() + "' and '" + next.name()
            + "' overlap (the second starts at " + next.localHeaderOffset() + ", before the first ends at " + end + ")");
      }
    }
  }

  private static void checkEntry(String path, ZipEntryInfo entry, long cdOffset) throws ZipFormatException {
    String where = path + ": entry '" + entry.name() + "'";
    if (entry.compressedSize() < 0 || entry.uncompressedSize() < 0 || entry.localHeaderOffset() < 0
        || entry.localHeaderOffset() > cdOffset - LOCAL_BYTES
        || entry.compressedSize() > cdOffset - LOCAL_BYTES - entry.localHeaderOffset()) {
      throw new ZipFormatException(
          where + ": " + entry.compressedSize() + " bytes at local header offset " + entry.localHeaderOffset()
              + " do not fit before the central directory at " + cdOffset);
    }
    String name = entry.name();
    if (name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.indexOf('\0') >= 0) {
      throw new ZipFormatException(where + " is not a relative path");
    }
    for (String segment : name.split("/", -1)) {
      if (segment.equals("..") || segment.equals(".")) {
        throw new ZipFormatException(where + " contains a '" + segment + "' path segment");
      }
    }
  }

  private static String topFolder(String path, Map<String, ZipEntryInfo> entries) throws ZipFormatException {
    if (entries.isEmpty()) {
      throw new ZipFormatException(path + ": the archive has no entries");
    }
    String first = entries.keySet().iterator().next();
    int slash = first.indexOf('/');
    if (slash <= 0) {
      throw new ZipFormatException(path + ": entry '" + first + "' is not inside a top folder");
    }
    String top = first.substring(0, slash);
    for (String name : entries.keySet()) {
      if (!name.startsWith(top + "/")) {
        throw new ZipFormatException(
            path + ": entry '" + name + "' is outside the archive's top folder '" + top + "/'");
      }
    }
    return top;
  }

  private static byte[] read(RandomAccessInput in, long position, int length) throws IOException {
    byte[] bytes = new byte[length];
    in.readFully(position, bytes, 0, length);
    return bytes;
  }
}
