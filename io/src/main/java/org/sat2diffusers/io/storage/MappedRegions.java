package org.sat2diffusers.io.storage;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.function.Consumer;

/**
 * Reads a region of a local file through memory mappings, a window at a time, each unmapped as soon
 * as it has been read. Reading bytes that are in the page cache this way costs no copy: a checksum
 * of a region just written reads the written pages in place, where a read into a buffer would make
 * the kernel copy every byte a second time (on a small machine, as much CPU as the copy itself).
 *
 * <p>Windows are unmapped at once, not when the collector gets round to their buffers: mapped pages
 * count in the process's resident memory, and a conversion reads gigabytes. Java 17 has no public way
 * to unmap, so this uses {@code sun.misc.Unsafe.invokeCleaner} from the jdk.unsupported module (as
 * Lucene's and Netty's mapped buffers do); where that is missing, {@link #available()} is false and
 * callers read through a buffer.
 *
 * <p>Only for files this process owns while it reads them (its own outputs): a mapped file cut
 * short by another process faults on access, which a buffered read would report as end of file.
 */
public final class MappedRegions {
  private static final long WINDOW_BYTES = 8 << 20;
  private static final Unmapper UNMAPPER = Unmapper.find();

  private MappedRegions() {}

  /** Whether regions can be read through mappings (else: read through a buffer). */
  public static boolean available() {
    return UNMAPPER != null;
  }

  /**
   * Hands {@code length} bytes of {@code channel}'s file at {@code position} to {@code reader}, a
   * window of at most 8 MiB at a time, in order; the buffers are valid only during the call.
   * {@code channel} must be open for reading and the region inside the file.
   */
  public static void read(FileChannel channel, long position, long length, Consumer<ByteBuffer> reader)
      throws IOException {
    if (UNMAPPER == null) {
      throw new IllegalStateException("memory-mapped reads are not available on this Java runtime");
    }
    for (long done = 0; done < length; ) {
      long n = Math.min(WINDOW_BYTES, length - done);
      MappedByteBuffer window = channel.map(FileChannel.MapMode.READ_ONLY, position + done, n);
      try {
        reader.accept(window);
      } finally {
        UNMAPPER.unmap(window);
      }
      done += n;
    }
  }

  /** sun.misc.Unsafe's invokeCleaner, looked up once. */
  private record Unmapper(Object unsafe, Method invokeCleaner) {
    static Unmapper find() {
      try {
        Class<?> type = Class.forName("sun.misc.Unsafe");
        Field field = type.getDeclaredField("theUnsafe");
        field.setAccessible(true);
        return new Unmapper(field.get(null), type.getMethod("invokeCleaner", ByteBuffer.class));
      } catch (ReflectiveOperationException | RuntimeException e) {
        return null;
      }
    }

    void unmap(MappedByteBuffer buffer) {
      try {
        invokeCleaner.invoke(unsafe, buffer);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("cannot unmap a mapped buffer", e);
      } catch (InvocationTargetException e) {
        throw new IllegalStateException("cannot unmap a mapped buffer", e.getCause());
      }
    }
  }
}
