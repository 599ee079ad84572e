package org.sat2diffusers.pipeline.steps;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.channels.WritableByteChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * TEST-ONLY hook, for the fault tests: with the system property {@value #FAIL_SHARD_ONCE} set to a
 * file name, the first attempt to write any shard of that name fails with an IOException after half
 * its bytes (each path once per JVM), as a broken disk or connection would. Unset, it does nothing.
 * Embedded runners (Direct, Spark local) run workers in the JVM that sets the property.
 */
final class FaultInjection {
  static final String FAIL_SHARD_ONCE = "sat2diffusers.test.failShardWriteOnce";

  private static final Set<String> FAILED = ConcurrentHashMap.newKeySet();

  private FaultInjection() {}

  /**
   * For shards written straight to a local file: when the hook names this shard and it has not
   * failed yet, leaves half a file of zeros behind and fails, as a write broken mid-way would.
   */
  static void breakLocalOnce(Path file, long expectedBytes) throws IOException {
    String path = file.toString();
    String name = System.getProperty(FAIL_SHARD_ONCE);
    if (name == null || !path.endsWith("/" + name) || !FAILED.add(path)) {
      return;
    }
    Files.createDirectories(file.getParent());
    Files.write(file, new byte[(int) Math.min(expectedBytes / 2, 1 << 20)]);
    throw new IOException(path + ": injected write failure (test hook " + FAIL_SHARD_ONCE + ")");
  }

  /** {@code out}, or, when the hook names this shard and it has not failed yet, a channel that breaks mid-way. */
  static WritableByteChannel wrap(String path, long expectedBytes, WritableByteChannel out) {
    String name = System.getProperty(FAIL_SHARD_ONCE);
    if (name == null || !path.endsWith("/" + name) || !FAILED.add(path)) {
      return out;
    }
    return new WritableByteChannel() {
      private long written;

      @Override
      public int write(ByteBuffer src) throws IOException {
        if (written + src.remaining() > expectedBytes / 2) {
          throw new IOException(path + ": injected write failure (test hook " + FAIL_SHARD_ONCE + ")");
        }
        int n = out.write(src);
        written += n;
        return n;
      }

      @Override
      public boolean isOpen() {
        return out.isOpen();
      }

      @Override
      public void close() throws IOException {
        out.close();
      }
    };
  }
}
