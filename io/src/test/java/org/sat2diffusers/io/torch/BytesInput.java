package org.sat2diffusers.io.torch;

import java.io.EOFException;
import org.sat2diffusers.io.storage.RandomAccessInput;

/** A fuzzer's input as a file. */
final class BytesInput implements RandomAccessInput {
  private final byte[] data;

  BytesInput(byte[] data) {
    this.data = data;
  }

  @Override
  public String path() {
    return "fuzz-input";
  }

  @Override
  public long size() {
    return data.length;
  }

  @Override
  public void readFully(long position, byte[] buffer, int offset, int length) throws EOFException {
    if (position < 0 || length < 0 || position > data.length - (long) length) {
      throw new EOFException("fuzz-input: cannot read " + length + " bytes at " + position + " of " + data.length);
    }
    System.arraycopy(data, (int) position, buffer, offset, length);
  }

  @Override
  public void close() {}
}
