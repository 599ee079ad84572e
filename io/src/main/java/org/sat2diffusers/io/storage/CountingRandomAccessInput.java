package org.sat2diffusers.io.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Counts the bytes and calls that go through {@link #readFully} and {@link #transferTo}: how we check that a reader stays lazy. */
public final class CountingRandomAccessInput extends ForwardingRandomAccessInput {
  private long bytesRead;
  private long readCalls;

  public CountingRandomAccessInput(RandomAccessInput delegate) {
    super(delegate);
  }

  public long bytesRead() {
    return bytesRead;
  }

  public long readCalls() {
    return readCalls;
  }

  @Override
  public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
    readCalls++;
    bytesRead += length;
    super.readFully(position, buffer, offset, length);
  }

  @Override
  public void readFully(long position, ByteBuffer buffer) throws IOException {
    readCalls++;
    bytesRead += buffer.remaining();
    super.readFully(position, buffer);
  }

  @Override
  public boolean transferTo(long position, long length, FileChannel target) throws IOException {
    boolean transferred = super.transferTo(position, length, target);
    if (transferred) {
      readCalls++;
      bytesRead += length;
    }
    return transferred;
  }
}
