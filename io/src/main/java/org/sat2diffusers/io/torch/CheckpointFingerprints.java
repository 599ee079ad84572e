package org.sat2diffusers.io.torch;

import java.io.IOException;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.FileFingerprint;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.zip.ZipArchive;
import org.sat2diffusers.io.zip.ZipEntryInfo;

/**
 * Fingerprints of checkpoint files that notice an edit in place, even one that keeps the size and
 * restores the modification time. Where the store has a checksum that changes with every write (an
 * S3 ETag) that is used as is. Elsewhere (local disks, HDFS, whose listing carries no checksum) the
 * checksum is {@code crc32c:} over the zip's central directory and {@code data.pkl}: the directory
 * holds the CRC-32 of every entry, so a tensor rewritten with the directory updated changes it, and
 * {@code data.pkl} holds every name, shape and offset. That costs kilobytes, not the file's size.
 */
public final class CheckpointFingerprints {
  private static final int CHUNK = 1 << 16;

  private CheckpointFingerprints() {}

  /** The file's fingerprint; a missing file is an error naming it. */
  public static FileFingerprint of(String file) throws IOException {
    FileFingerprint listed = StorageFiles.fingerprint(file);
    if (listed.checksum() != null && !listed.checksum().isEmpty()) {
      return listed;
    }
    return new FileFingerprint(file, listed.sizeBytes(), listed.lastModifiedMillis(), contentChecksum(file).orElse(null));
  }

  /**
   * The CRC-32C of the directory and data.pkl; empty when the file is no readable torch zip (its
   * conversion then fails on its own, naming what is wrong, rather than the whole run here).
   */
  static Optional<String> contentChecksum(String file) {
    try (RandomAccessInput in = RandomAccessInputs.open(file)) {
      ZipArchive zip = ZipArchive.read(in);
      CRC32C crc = new CRC32C();
      update(crc, in, zip.centralDirectory());
      Optional<ZipEntryInfo> pickle = zip.entry(zip.topFolder() + "/data.pkl");
      if (pickle.isPresent()) {
        update(crc, in, zip.dataRange(pickle.get()));
      }
      return Optional.of(String.format("crc32c:%08x", crc.getValue()));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static void update(CRC32C crc, RandomAccessInput in, ByteRange range) throws IOException {
    byte[] buffer = new byte[(int) Math.min(CHUNK, range.length())];
    for (long done = 0; done < range.length(); ) {
      int n = (int) Math.min(buffer.length, range.length() - done);
      in.readFully(range.offset() + done, buffer, 0, n);
      crc.update(buffer, 0, n);
      done += n;
    }
  }
}
