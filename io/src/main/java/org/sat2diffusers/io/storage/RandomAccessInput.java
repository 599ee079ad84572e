package org.sat2diffusers.io.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Positional reads from one file, whatever stores it. Everything the readers need is seek + read, so
 * a local file, an S3 object (ranged GET) and an HDFS file (positioned read) look the same.
 * Implementations are not required to be thread-safe.
 */
public interface RandomAccessInput extends Closeable {
  /** The path or URI this input was opened from, for messages. */
  String path();

  /** Size of the file in bytes. */
  long size() throws IOException;

  /**
   * Reads exactly {@code length} bytes at {@code position} into {@code buffer[offset..]}; throws
   * EOFException naming the path when the file ends first.
   */
  void readFully(long position, byte[] buffer, int offset, int length) throws IOException;

  /**
   * As {@link #readFully(long, byte[], int, int)}, into the remaining bytes of {@code buffer}
   * (whose position ends at its limit). A local file reads into a direct buffer with one copy fewer
   * than into an array.
   */
  default void readFully(long position, ByteBuffer buffer) throws IOException {
    if (buffer.hasArray()) {
      readFully(position, buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.remaining());
      buffer.position(buffer.limit());
    } else {
      byte[] bytes = new byte[buffer.remaining()];
      readFully(position, bytes, 0, bytes.length);
      buffer.put(bytes);
    }
  }

  /**
   * Optional zero-copy path: writes {@code length} bytes found at {@code position} into {@code
   * target} at its current position, in the kernel where the platform can (local file to local
   * file). Returns false, having written nothing, when this input has no such path; the caller then
   * reads through a buffer. Errors as {@link #readFully}.
   */
  default boolean transferTo(long position, long length, FileChannel target) throws IOException {
    return false;
  }
}
