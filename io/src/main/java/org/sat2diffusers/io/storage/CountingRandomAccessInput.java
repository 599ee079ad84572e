package org.sat2diffusers.io.storage;

import java.io.IOException;

/** Counts the bytes and calls that go through {@link #readFully}: how we check that a reader stays lazy. */
public final class CountingRandomAccessInput implements RandomAccessInput {
  private final RandomAccessInput delegate;
  private long bytesRead;
  private long readCalls;

  public CountingRandomAccessInput(RandomAccessInput delegate) {
    this.delegate = delegate;
  }

  public long bytesRead() {
    return bytesRead;
  }

  public long readCalls() {
    return readCalls;
  }

  @Override
  public String path() {
    return delegate.path();
  }

  @Override
  public long size() throws IOException {
    return delegate.size();
  }

  @Override
  public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
    readCalls++;
    bytesRead += length;
    delegate.readFully(position, buffer, offset, length);
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
