package org.sat2diffusers.io.zip;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Writes a zip archive byte for byte as torch's {@code PyTorchStreamWriter} (miniz, ZIP64 mode)
 * does, front to back on any stream: it never seeks, so a Beam file system's output works.
 *
 * <p>Per entry: a local header with CRC and sizes zero and the data-descriptor flag (bit 3) plus
 * UTF-8 (bit 11), DOS time and date zero; in its extra field a ZIP64 field when the entry's size or
 * offset reaches 4 GiB, then torch's padding field ({@code "FB"}, length, {@code 'Z'}s) that puts
 * the data on a 64-byte boundary; the data, STORED; then a data descriptor with the CRC-32 and the
 * sizes (64-bit when the entry has a ZIP64 field). An empty entry has neither the flag nor a
 * descriptor. At the end: the central directory (a ZIP64 field where a size or the offset is
 * saturated), the ZIP64 end record, its locator and the classic end record, as miniz always
 * writes them in ZIP64 mode. Since the CRC goes after the data, each entry streams through once.
 */
public final class ZipArchiveWriter {
  /** Where torch aligns every entry's data (caffe2 {@code kFieldAlignment}). */
  public static final int ALIGNMENT = 64;

  private static final int LOCAL_SIGNATURE = 0x04034b50;
  private static final int DESCRIPTOR_SIGNATURE = 0x08074b50;
  private static final int CENTRAL_SIGNATURE = 0x02014b50;
  private static final int ZIP64_EOCD_SIGNATURE = 0x06064b50;
  private static final int ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
  private static final int EOCD_SIGNATURE = 0x06054b50;
  private static final int LOCAL_BYTES = 30;
  private static final int FLAG_DESCRIPTOR = 1 << 3;
  private static final int FLAG_UTF8 = 1 << 11;
  private static final int ZIP64_EXTRA_ID = 0x0001;
  private static final long U32_MAX = 0xffffffffL;
  /** miniz's "version made by" (3 = Unix, 30 = 3.0) and "version needed" (45 = 4.5, ZIP64) in the ZIP64 end record. */
  private static final int ZIP64_MADE_BY = 0x031e;
  private static final int ZIP64_NEEDED = 0x2d;

  private final String path;
  private final OutputStream out;
  private final ByteArrayOutputStream centralDirectory = new ByteArrayOutputStream();
  private final Set<String> names = new HashSet<>();
  private long position;
  private long entryCount;
  private Entry open;
  private boolean finished;

  /**
   * {@code path} names the archive in messages; {@code out} is written front to back and not closed
   * here. Headers arrive in small writes: give a buffered stream.
   */
  public ZipArchiveWriter(String path, OutputStream out) {
    this.path = path;
    this.out = out;
  }

  /**
   * Starts entry {@code name} of exactly {@code size} bytes and returns the stream for them; closing
   * the stream checks the count and ends the entry. One entry at a time.
   */
  public Entry entry(String name, long size) throws IOException {
    if (finished || open != null) {
      throw new IllegalStateException(path + ": entry '" + name + "' started while "
          + (finished ? "the archive is finished" : "entry '" + open.name + "' is open"));
    }
    if (size < 0) {
      throw new IllegalArgumentException(path + ": entry '" + name + "' has a negative size " + size);
    }
    byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
    if (nameBytes.length > 0xffff || name.isEmpty() || !names.add(name)) {
      throw new IllegalArgumentException(path + ": entry name '" + name + "' is empty, too long or used twice");
    }
    long headerOffset = position;
    boolean zip64 = size >= U32_MAX || headerOffset >= U32_MAX;
    ByteArrayOutputStream extra = new ByteArrayOutputStream();
    if (zip64) {
      // miniz writes the compressed size as 0 here: it is not known before the data
      zip64Extra(extra, size >= U32_MAX ? new long[] {size, 0} : new long[0], headerOffset >= U32_MAX ? headerOffset : -1);
    }
    long unpadded = headerOffset + LOCAL_BYTES + nameBytes.length + extra.size() + 4;
    int padding = (int) ((ALIGNMENT - unpadded % ALIGNMENT) % ALIGNMENT);
    extra.write('F');
    extra.write('B');
    u16(extra, padding);
    for (int i = 0; i < padding; i++) {
      extra.write('Z');
    }
    int flags = FLAG_UTF8 | (size > 0 ? FLAG_DESCRIPTOR : 0);
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    u32(header, LOCAL_SIGNATURE);
    u16(header, 0); // version needed: miniz writes 0 for STORED
    u16(header, flags);
    u16(header, 0); // method: STORED
    u16(header, 0); // time
    u16(header, 0); // date
    u32(header, 0); // CRC-32, in the descriptor
    u32(header, 0); // compressed size, in the descriptor
    u32(header, 0); // uncompressed size, in the descriptor
    u16(header, nameBytes.length);
    u16(header, extra.size());
    header.writeBytes(nameBytes);
    extra.writeTo(header);
    write(header.toByteArray());
    open = new Entry(name, nameBytes, size, headerOffset, flags, zip64);
    return open;
  }

  /** Writes the central directory and the end records; returns the archive's size in bytes. */
  public long finish() throws IOException {
    if (open != null) {
      throw new IllegalStateException(path + ": cannot finish while entry '" + open.name + "' is open");
    }
    if (finished) {
      throw new IllegalStateException(path + ": already finished");
    }
    finished = true;
    long cdOffset = position;
    long cdSize = centralDirectory.size();
    write(centralDirectory.toByteArray());
    long zip64End = position;
    ByteArrayOutputStream end = new ByteArrayOutputStream();
    u32(end, ZIP64_EOCD_SIGNATURE);
    u64(end, 44); // size of the rest of the record
    u16(end, ZIP64_MADE_BY);
    u16(end, ZIP64_NEEDED);
    u32(end, 0); // this disk
    u32(end, 0); // disk with the central directory
    u64(end, entryCount);
    u64(end, entryCount);
    u64(end, cdSize);
    u64(end, cdOffset);
    u32(end, ZIP64_LOCATOR_SIGNATURE);
    u32(end, 0); // disk with the ZIP64 end record
    u64(end, zip64End);
    u32(end, 1); // disks
    u32(end, EOCD_SIGNATURE);
    u16(end, 0);
    u16(end, 0);
    u16(end, (int) Math.min(entryCount, 0xffff));
    u16(end, (int) Math.min(entryCount, 0xffff));
    u32(end, Math.min(cdSize, U32_MAX));
    u32(end, Math.min(cdOffset, U32_MAX));
    u16(end, 0); // comment length
    write(end.toByteArray());
    return position;
  }

  private void endEntry(Entry entry, long crc) throws IOException {
    ByteArrayOutputStream descriptor = new ByteArrayOutputStream();
    if (entry.size > 0) {
      u32(descriptor, DESCRIPTOR_SIGNATURE);
      u32(descriptor, crc);
      if (entry.zip64) {
        u64(descriptor, entry.size);
        u64(descriptor, entry.size);
      } else {
        u32(descriptor, entry.size);
        u32(descriptor, entry.size);
      }
      write(descriptor.toByteArray());
    }
    ByteArrayOutputStream extra = new ByteArrayOutputStream();
    if (entry.zip64) {
      zip64Extra(extra, entry.size >= U32_MAX ? new long[] {entry.size, entry.size} : new long[0],
          entry.headerOffset >= U32_MAX ? entry.headerOffset : -1);
    }
    ByteArrayOutputStream cd = centralDirectory;
    u32(cd, CENTRAL_SIGNATURE);
    u16(cd, 0); // version made by
    u16(cd, 0); // version needed
    u16(cd, entry.flags);
    u16(cd, 0); // method
    u16(cd, 0); // time
    u16(cd, 0); // date
    u32(cd, crc);
    u32(cd, Math.min(entry.size, U32_MAX));
    u32(cd, Math.min(entry.size, U32_MAX));
    u16(cd, entry.nameBytes.length);
    u16(cd, extra.size());
    u16(cd, 0); // comment length
    u16(cd, 0); // disk
    u16(cd, 0); // internal attributes
    u32(cd, 0); // external attributes
    u32(cd, Math.min(entry.headerOffset, U32_MAX));
    cd.writeBytes(entry.nameBytes);
    extra.writeTo(cd);
    entryCount++;
    open = null;
  }

  /** The ZIP64 extended information field: the given sizes, then the offset when not negative. */
  private static void zip64Extra(ByteArrayOutputStream extra, long[] sizes, long offset) {
    u16(extra, ZIP64_EXTRA_ID);
    u16(extra, 8 * (sizes.length + (offset >= 0 ? 1 : 0)));
    for (long size : sizes) {
      u64(extra, size);
    }
    if (offset >= 0) {
      u64(extra, offset);
    }
  }

  private void write(byte[] bytes) throws IOException {
    write(bytes, 0, bytes.length);
  }

  private void write(byte[] bytes, int offset, int length) throws IOException {
    out.write(bytes, offset, length);
    position += length;
  }

  private static void u16(ByteArrayOutputStream out, int value) {
    out.write(value);
    out.write(value >>> 8);
  }

  private static void u32(ByteArrayOutputStream out, long value) {
    u16(out, (int) value);
    u16(out, (int) (value >>> 16));
  }

  private static void u64(ByteArrayOutputStream out, long value) {
    u32(out, value);
    u32(out, value >>> 32);
  }

  /** One entry's data: counted against its size and checksummed on the way through. */
  public final class Entry extends OutputStream {
    private final String name;
    private final byte[] nameBytes;
    private final long size;
    private final long headerOffset;
    private final int flags;
    private final boolean zip64;
    private final CRC32 crc = new CRC32();
    private long written;
    private boolean closed;

    private Entry(String name, byte[] nameBytes, long size, long headerOffset, int flags, boolean zip64) {
      this.name = name;
      this.nameBytes = nameBytes;
      this.size = size;
      this.headerOffset = headerOffset;
      this.flags = flags;
      this.zip64 = zip64;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      checkRoom(length);
      crc.update(bytes, offset, length);
      ZipArchiveWriter.this.write(bytes, offset, length);
      written += length;
    }

    private void checkRoom(long length) throws IOException {
      if (closed) {
        throw new IOException(path + ": entry '" + name + "': write after close");
      }
      if (length > size - written) {
        throw new IOException(path + ": entry '" + name + "' takes " + size + " bytes; got " + (written + length)
            + " so far");
      }
    }

    /** The CRC-32 of the bytes written so far (of the whole entry once closed). */
    public long crc() {
      return crc.getValue();
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      if (written != size) {
        throw new IOException(path + ": entry '" + name + "' takes " + size + " bytes; got only " + written);
      }
      endEntry(this, crc.getValue());
    }
  }
}
