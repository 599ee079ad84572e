package org.sat2diffusers.io.storage;

import java.io.IOException;
import org.sat2diffusers.io.storage.RandomAccessInput;

/** Opens a source file named in a byte range (local path, s3://, hdfs://: the caller knows how). */
@FunctionalInterface
public interface SourceOpener {
  RandomAccessInput open(String file) throws IOException;
}
