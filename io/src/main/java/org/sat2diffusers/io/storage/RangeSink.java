package org.sat2diffusers.io.storage;

import java.io.IOException;

/**
 * An output that can take a byte range straight from an input: zero-copy when both are local files
 * ({@link RandomAccessInput#transferTo}). Writers offer it next to their stream interface.
 */
public interface RangeSink {
  /**
   * Appends {@code length} bytes of {@code in} found at {@code position}. Returns false, having
   * written nothing, when there is no such path for this pair; the caller then copies through a buffer.
   */
  boolean transferFrom(RandomAccessInput in, long position, long length) throws IOException;
}
