package org.sat2diffusers.io.safetensors;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * The checksum kept of a written header and of each tensor. CRC-32C is the default: the processor
 * computes it (about ten times the speed of sha256 on one core), it catches every burst of up to 32
 * flipped bits, and cloud stores use it for their own object checksums. sha256 is for when a
 * tensor's digest must identify its content (as the fixtures' expected tensors do).
 */
public enum Digest {
  CRC32C("crc32c"),
  SHA256("sha256");

  /** A running checksum of the bytes given to it. Not thread-safe. */
  public interface Running {
    void update(byte[] bytes, int offset, int length);

    /** The remaining bytes of {@code bytes} (read from a direct buffer without a copy where it can). */
    void update(ByteBuffer bytes);

    /** The checksum as lowercase hex (8 digits for CRC-32C, 64 for sha256); ends this checksum. */
    String hex();
  }

  private final String label;

  Digest(String label) {
    this.label = label;
  }

  /** The name used in reports and on the command line: {@code crc32c}, {@code sha256}. */
  public String label() {
    return label;
  }

  /** The digest a report or command line names; IllegalArgumentException for any other name. */
  public static Digest of(String label) {
    for (Digest d : values()) {
      if (d.label.equals(label.toLowerCase(Locale.ROOT))) {
        return d;
      }
    }
    throw new IllegalArgumentException("unknown digest '" + label + "': crc32c or sha256");
  }

  public Running start() {
    return this == CRC32C ? new Crc32c() : new Sha256();
  }

  /** The checksum of {@code bytes}. */
  public String of(byte[] bytes) {
    Running running = start();
    running.update(bytes, 0, bytes.length);
    return running.hex();
  }

  private static final class Crc32c implements Running {
    private final CRC32C crc = new CRC32C();

    @Override
    public void update(byte[] bytes, int offset, int length) {
      crc.update(bytes, offset, length);
    }

    @Override
    public void update(ByteBuffer bytes) {
      crc.update(bytes);
    }

    @Override
    public String hex() {
      return HexFormat.of().toHexDigits((int) crc.getValue());
    }
  }

  private static final class Sha256 implements Running {
    private final MessageDigest sha;

    Sha256() {
      try {
        sha = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("every Java runtime has SHA-256", e);
      }
    }

    @Override
    public void update(byte[] bytes, int offset, int length) {
      sha.update(bytes, offset, length);
    }

    @Override
    public void update(ByteBuffer bytes) {
      sha.update(bytes);
    }

    @Override
    public String hex() {
      return HexFormat.of().formatHex(sha.digest());
    }
  }
}
