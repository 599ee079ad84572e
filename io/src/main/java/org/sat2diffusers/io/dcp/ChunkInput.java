package org.sat2diffusers.io.dcp;

import java.io.EOFException;
import java.io.IOException;
import org.sat2diffusers.io.storage.RandomAccessInput;

/** One chunk of a {@code .distcp} file (a complete torch.save zip) seen as a file of its own; closing it leaves the file open. */
final class ChunkInput implements RandomAccessInput {
  private final RandomAccessInput file;
  private final long start;
  private final long length;
  private final String path;

  ChunkInput(RandomAccessInput file, long start, long length, String what) {
    this.file = file;
    this.start = start;
    this.length = length;
    this.path = file.path() + " (" + what + ", bytes " + start + "+" + length + ")";
  }

  /** Where this chunk's position 0 lies in the file. */
  long start() {
    return start;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public long size() {
    return length;
  }

  @Override
  public void readFully(long position, byte[] buffer, int offset, int count) throws IOException {
    if (position < 0 || position + count > length) {
      throw new EOFException(path + ": read of " + count + " bytes at " + position + " runs past the chunk's end");
    }
    file.readFully(start + position, buffer, offset, count);
  }

  @Override
  public void close() {}
}
