package org.sat2diffusers.io.storage;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;

/** A {@link RandomAccessInput} over a seekable channel: position, then read until the buffer is full. */
final class ChannelInput implements RandomAccessInput {
  private final String path;
  private final SeekableByteChannel channel;
  private long size = -1;

  ChannelInput(String path, SeekableByteChannel channel) {
    this.path = path;
    this.channel = channel;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public long size() throws IOException {
    if (size < 0) {
      size = channel.size();
    }
    return size;
  }

  @Override
  public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
    readFully(position, ByteBuffer.wrap(buffer, offset, length));
  }

  @Override
  public void readFully(long position, ByteBuffer buffer) throws IOException {
    int start = buffer.position();
    checkRange(position, buffer.remaining());
    channel.position(position);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        throw new EOFException(path + ": file ended at offset " + (position + buffer.position() - start));
      }
    }
  }

  /** Local files: {@link FileChannel#transferTo} (sendfile on Linux), no copy through the Java heap. */
  @Override
  public boolean transferTo(long position, long length, FileChannel target) throws IOException {
    if (!(channel instanceof FileChannel file)) {
      return false;
    }
    checkRange(position, length);
    for (long done = 0; done < length; ) {
      long n = file.transferTo(position + done, length - done, target);
      if (n <= 0) {
        throw new EOFException(path + ": file ended at offset " + (position + done));
      }
      done += n;
    }
    return true;
  }

  private void checkRange(long position, long length) throws IOException {
    if (position < 0 || length < 0 || position > size() - length) {
      throw new EOFException(
          path + ": cannot read " + length + " bytes at offset " + position + ", the file has " + size()
              + " bytes");
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
