package org.sat2diffusers.transforms.assemble;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.sat2diffusers.io.storage.RandomAccessInput;

/** A local file for tests (the real storage layer belongs to io). */
class LocalFileInput implements RandomAccessInput {
  private final String path;
  private final FileChannel channel;

  LocalFileInput(String path) throws IOException {
    this.path = path;
    this.channel = FileChannel.open(Path.of(path), StandardOpenOption.READ);
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public long size() throws IOException {
    return channel.size();
  }

  @Override
  public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(buffer, offset, length);
    while (buf.hasRemaining()) {
      if (channel.read(buf, position + buf.position() - offset) < 0) {
        throw new EOFException(path + ": ends before byte " + (position + length));
      }
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
