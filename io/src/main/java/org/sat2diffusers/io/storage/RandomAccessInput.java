package org.sat2diffusers.io.storage;

import java.io.Closeable;
import java.io.IOException;

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
}
