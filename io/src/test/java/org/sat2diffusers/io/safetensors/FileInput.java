package org.sat2diffusers.io.safetensors;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.sat2diffusers.io.storage.RandomAccessInput;

/** A local file as a RandomAccessInput, for these tests only. */
final class FileInput implements RandomAccessInput {
  private final Path path;
  private final FileChannel channel;

  FileInput(Path path) throws IOException {
    this.path = path;
    this.channel = FileChannel.open(path, StandardOpenOption.READ);
  }

  @Override
  public String path() {
    return path.toString();
  }

  @Override
  public long size() throws IOException {
    return channel.size();
  }

  @Override
  public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
    ByteBuffer target = ByteBuffer.wrap(buffer, offset, length);
    while (target.hasRemaining()) {
      if (channel.read(target, position + target.position() - offset) < 0) {
        throw new EOFException(path + ": end of file before byte " + (position + length));
      }
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
