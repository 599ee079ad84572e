package org.sat2diffusers.io.torch;

import java.io.IOException;
import java.io.OutputStream;
import org.sat2diffusers.io.storage.RandomAccessInput;

/**
 * The bytes of one storage of a checkpoint being written, produced when the writer reaches it: a
 * byte range of an open input (a safetensors file's tensor), or bytes computed by the caller. The
 * writer lends its buffer, so a storage of any size passes through a buffer's worth of memory.
 */
public interface StorageSource {
  /** How many bytes {@link #writeTo} writes. */
  long byteLength();

  /** Writes exactly {@link #byteLength()} bytes to {@code out}, using {@code buffer} as scratch space. */
  void writeTo(OutputStream out, byte[] buffer) throws IOException;

  /** {@code length} bytes of {@code in} at {@code offset}, read through the writer's buffer; {@code in} stays open. */
  static StorageSource range(RandomAccessInput in, long offset, long length) {
    return new StorageSource() {
      @Override
      public long byteLength() {
        return length;
      }

      @Override
      public void writeTo(OutputStream out, byte[] buffer) throws IOException {
        for (long done = 0; done < length; ) {
          int n = (int) Math.min(buffer.length, length - done);
          in.readFully(offset + done, buffer, 0, n);
          out.write(buffer, 0, n);
          done += n;
        }
      }
    };
  }

  /** Bytes already in memory (small tensors, computed tables); not copied. */
  static StorageSource bytes(byte[] bytes) {
    return new StorageSource() {
      @Override
      public long byteLength() {
        return bytes.length;
      }

      @Override
      public void writeTo(OutputStream out, byte[] buffer) throws IOException {
        out.write(bytes);
      }
    };
  }
}
