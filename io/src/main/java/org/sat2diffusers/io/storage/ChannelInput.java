package org.sat2diffusers.io.storage;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
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
    if (position < 0 || length < 0 || position > size() - length) {
      throw new EOFException(
          path + ": cannot read " + length + " bytes at offset " + position + ", the file has " + size()
              + " bytes");
    }
    channel.position(position);
    ByteBuffer target = ByteBuffer.wrap(buffer, offset, length);
    while (target.hasRemaining()) {
      if (channel.read(target) < 0) {
        throw new EOFException(path + ": file ended at offset " + (position + target.position() - offset));
      }
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
