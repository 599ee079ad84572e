package org.sat2diffusers.io.storage;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.util.List;

/**
 * Streams byte ranges of one input, in order, into an output through one fixed-size buffer: memory
 * stays bounded by the buffer whatever the tensor sizes.
 */
public final class RangeCopier {
  public static final int DEFAULT_BUFFER_BYTES = 8 << 20;

  private final byte[] buffer;

  public RangeCopier() {
    this(DEFAULT_BUFFER_BYTES);
  }

  public RangeCopier(int bufferBytes) {
    if (bufferBytes <= 0) {
      throw new IllegalArgumentException("buffer size must be positive, got " + bufferBytes);
    }
    this.buffer = new byte[bufferBytes];
  }

  /** Copies {@code ranges} (all of {@code in}'s file) to {@code out}; returns the number of bytes copied. */
  public long copy(RandomAccessInput in, List<ByteRange> ranges, WritableByteChannel out) throws IOException {
    long copied = 0;
    for (ByteRange range : ranges) {
      if (!range.file().equals(in.path())) {
        throw new IllegalArgumentException(
            "byte range of " + range.file() + " cannot be read from " + in.path());
      }
      long position = range.offset();
      long remaining = range.length();
      while (remaining > 0) {
        int chunk = (int) Math.min(buffer.length, remaining);
        in.readFully(position, buffer, 0, chunk);
        ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, chunk);
        while (bytes.hasRemaining()) {
          out.write(bytes);
        }
        position += chunk;
        remaining -= chunk;
      }
      copied += range.length();
    }
    return copied;
  }

  /** Same as {@link #copy(RandomAccessInput, List, WritableByteChannel)}; does not close {@code out}. */
  public long copy(RandomAccessInput in, List<ByteRange> ranges, OutputStream out) throws IOException {
    return copy(in, ranges, Channels.newChannel(out));
  }
}
