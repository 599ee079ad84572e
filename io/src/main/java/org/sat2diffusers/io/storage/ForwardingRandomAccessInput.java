package org.sat2diffusers.io.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/** Passes every call to another input: a decorator overrides only the calls it watches or changes. */
public abstract class ForwardingRandomAccessInput implements RandomAccessInput {
  private final RandomAccessInput delegate;

  protected ForwardingRandomAccessInput(RandomAccessInput delegate) {
    this.delegate = delegate;
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
    delegate.readFully(position, buffer, offset, length);
  }

  @Override
  public void readFully(long position, ByteBuffer buffer) throws IOException {
    delegate.readFully(position, buffer);
  }

  @Override
  public boolean transferTo(long position, long length, FileChannel target) throws IOException {
    return delegate.transferTo(position, length, target);
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
