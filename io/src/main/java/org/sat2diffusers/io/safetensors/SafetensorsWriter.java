package org.sat2diffusers.io.safetensors;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.sat2diffusers.io.storage.MappedRegions;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RangeSink;

/**
 * Streams a safetensors file laid out by a {@link SafetensorsHeader}: the header is written at once,
 * then each tensor's bytes arrive through {@link #tensor(String)} and are checked to be exactly the
 * tensor's byte count. On a {@link FileChannel} tensors may come in any order, also from several
 * threads at once (positional writes); on a plain channel they must come in layout order. Only a
 * caller-sized buffer is ever held. Optionally computes a {@link Digest} of the header's bytes and of
 * each tensor's as they go by (a zero-copy range is hashed from the file just written, read in place
 * through {@link MappedRegions}). Together they
 * cover every byte of the file, and the tensors' are computed by the writing threads in parallel: a
 * whole-file digest would be one sequential pass, the slowest part of a local conversion.
 * A positional writer given the file's {@link Path} also takes byte ranges zero-copy: the tensor
 * sinks are {@link RangeSink}s.
 */
public final class SafetensorsWriter {
  /**
   * What was written.
   *
   * @param fileSize bytes in the file
   * @param headerDigest of the header's bytes, when a digest was asked for
   * @param tensorDigests per tensor name, in layout order (empty without a digest)
   */
  public record Written(long fileSize, Optional<String> headerDigest, Map<String, String> tensorDigests) {}

  /** Where a positional writer's bytes go: {@code bytes} at {@code position} of the file, from any thread. */
  public interface PositionalTarget {
    void write(ByteBuffer bytes, long position) throws IOException;
  }

  private enum State { PENDING, OPEN, DONE }

  private static final int HASH_BUFFER_BYTES = 1 << 20;

  private final String path;
  private final SafetensorsHeader header;
  private final PositionalTarget target;
  private final boolean ordered; // a sequential target: tensors in layout order
  private final FileChannel positional; // truncated by finish(); null: none
  private final Path transferFile; // reopened per zero-copy transfer; null: no transfers
  private final Digest digest; // null: none
  private final String headerDigest; // null without a digest
  private final Map<String, State> states = new HashMap<>();
  private final Map<String, String> tensorDigests = new HashMap<>();
  private int nextInLayout; // index into header.entries(), when the order is enforced
  /**
   * Taken around every write into the file. Linux serializes buffered writes to one file anyway (the
   * inode lock), and a writer waiting there spins on a core; waiting here parks it, leaving the core
   * to the other threads' hashing, casting and merging, which is what runs in parallel.
   */
  private final ReentrantLock writes = new ReentrantLock();
  /** Direct: a local source reads into it with one copy, and CRC-32C reads it in place. */
  private final ThreadLocal<ByteBuffer> hashBuffer =
      ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(HASH_BUFFER_BYTES));

  private SafetensorsWriter(String path, SafetensorsHeader header, PositionalTarget target, boolean ordered,
      FileChannel positional, Path transferFile, Digest digest) throws IOException {
    this.path = path;
    this.header = header;
    this.target = target;
    this.ordered = ordered;
    this.positional = positional;
    this.transferFile = transferFile;
    this.digest = digest;
    header.entries().forEach(e -> states.put(e.name(), State.PENDING));
    byte[] headerBytes = header.bytes();
    target.write(ByteBuffer.wrap(headerBytes), 0);
    this.headerDigest = digest == null ? null : digest.of(headerBytes);
  }

  /**
   * Writes to {@code channel} at absolute positions (its own position is not used); tensors in any
   * order, concurrently if wanted. {@link #finish} truncates the channel to the file size.
   * {@code path} names the file in messages; {@code digest} is null for none.
   */
  public static SafetensorsWriter positional(String path, SafetensorsHeader header, FileChannel channel, Digest digest)
      throws IOException {
    return new SafetensorsWriter(path, header, positionalTarget(channel), false, channel, null, digest);
  }

  /**
   * Writes through {@code target} at absolute positions; tensors in any order, concurrently if
   * wanted. The header goes to {@code target} at once, from this call.
   */
  public static SafetensorsWriter positional(String path, SafetensorsHeader header, PositionalTarget target,
      Digest digest) throws IOException {
    return new SafetensorsWriter(path, header, target, false, null, null, digest);
  }

  /**
   * As {@link #positional(String, SafetensorsHeader, FileChannel, Digest)} on {@code channel}, which
   * is open for writing on the local {@code file}; byte ranges of local inputs then go
   * into it zero-copy ({@link RangeSink}).
   */
  public static SafetensorsWriter positional(Path file, SafetensorsHeader header, FileChannel channel, Digest digest)
      throws IOException {
    return new SafetensorsWriter(file.toString(), header, positionalTarget(channel), false, channel, file, digest);
  }

  private static PositionalTarget positionalTarget(FileChannel channel) {
    return (bytes, position) -> {
      long at = position;
      while (bytes.hasRemaining()) {
        at += channel.write(bytes, at);
      }
    };
  }

  /** Writes to {@code channel} from its current position on; tensors must come in layout order. */
  public static SafetensorsWriter sequential(String path, SafetensorsHeader header, WritableByteChannel channel,
      Digest digest) throws IOException {
    PositionalTarget target = (bytes, position) -> {
      while (bytes.hasRemaining()) {
        channel.write(bytes);
      }
    };
    return new SafetensorsWriter(path, header, target, true, null, null, digest);
  }

  /**
   * The sink for one tensor's bytes, also a {@link RangeSink}. Closing it checks the byte count; a
   * tensor of 0 bytes must still be opened and closed. On a sequential target the previous tensor's
   * sink must be closed first.
   */
  public synchronized OutputStream tensor(String name) {
    State state = states.get(name);
    if (state == null) {
      throw new IllegalArgumentException(path + ": no tensor '" + name + "' in the header");
    }
    if (state != State.PENDING) {
      throw new IllegalStateException(path + ": tensor '" + name + "' was already written");
    }
    if (orderEnforced()) {
      SafetensorsEntry expected = header.entries().get(nextInLayout);
      if (!expected.name().equals(name) || states.containsValue(State.OPEN)) {
        throw new IllegalStateException(path + ": tensor '" + name + "' out of layout order; expected '"
            + expected.name() + "' next (sequential target)");
      }
      nextInLayout++;
    }
    states.put(name, State.OPEN);
    return new TensorOutput(header.entry(name));
  }

  /** Checks that every tensor was written, truncates a positional target to the file size, returns the digests. */
  public synchronized Written finish() throws IOException {
    List<String> missing = header.entries().stream()
        .map(SafetensorsEntry::name).filter(name -> states.get(name) != State.DONE).limit(5).toList();
    if (!missing.isEmpty()) {
      throw new IllegalStateException(path + ": tensors not (fully) written, e.g. " + missing);
    }
    if (positional != null) {
      positional.truncate(header.fileSize());
    }
    Map<String, String> digestsInLayoutOrder = new LinkedHashMap<>();
    for (SafetensorsEntry e : header.entries()) {
      if (tensorDigests.containsKey(e.name())) {
        digestsInLayoutOrder.put(e.name(), tensorDigests.get(e.name()));
      }
    }
    return new Written(header.fileSize(), Optional.ofNullable(headerDigest), digestsInLayoutOrder);
  }

  private boolean orderEnforced() {
    return ordered;
  }

  private synchronized void completed(String name, Digest.Running running) {
    states.put(name, State.DONE);
    if (running != null) {
      tensorDigests.put(name, running.hex());
    }
  }

  /** Feeds {@code length} bytes of {@code in} at {@code position} to {@code running}. */
  private void hash(RandomAccessInput in, long position, long length, Digest.Running running) throws IOException {
    ByteBuffer buffer = hashBuffer.get();
    for (long done = 0; done < length; ) {
      int n = (int) Math.min(buffer.capacity(), length - done);
      buffer.clear().limit(n);
      in.readFully(position + done, buffer);
      running.update(buffer.flip());
      done += n;
    }
  }

  /** Writes one tensor's bytes at its planned place, counting them. */
  private final class TensorOutput extends OutputStream implements RangeSink {
    private final SafetensorsEntry entry;
    private final Digest.Running running = digest == null ? null : digest.start();
    private long written;
    private boolean closed;

    TensorOutput(SafetensorsEntry entry) {
      this.entry = entry;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      checkRoom(length);
      writes.lock();
      try {
        target.write(ByteBuffer.wrap(bytes, offset, length), entry.offset() + written);
      } finally {
        writes.unlock();
      }
      written += length;
      if (running != null) {
        running.update(bytes, offset, length);
      }
    }

    /**
     * Zero-copy into the local file through a channel of its own (its own position), then hashed
     * from the file as written, its pages read in place (no second copy of the bytes).
     */
    @Override
    public boolean transferFrom(RandomAccessInput in, long position, long length) throws IOException {
      if (transferFile == null) {
        return false;
      }
      checkRoom(length);
      long at = entry.offset() + written;
      try (FileChannel out = FileChannel.open(transferFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        writes.lock();
        try {
          out.position(at);
          if (!in.transferTo(position, length, out)) {
            return false;
          }
        } finally {
          writes.unlock();
        }
        written += length;
        if (running != null && MappedRegions.available()) {
          MappedRegions.read(out, at, length, running::update);
        } else if (running != null) {
          hash(in, position, length, running);
        }
      }
      return true;
    }

    private void checkRoom(long length) throws IOException {
      if (closed) {
        throw new IOException(path + ": tensor '" + entry.name() + "': write after close");
      }
      if (length > entry.byteLength() - written) {
        throw new IOException(path + ": tensor '" + entry.name() + "' takes " + entry.byteLength()
            + " bytes; got " + (written + length) + " so far");
      }
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      if (written != entry.byteLength()) {
        throw new IOException(path + ": tensor '" + entry.name() + "' takes " + entry.byteLength()
            + " bytes; got only " + written);
      }
      completed(entry.name(), running);
    }
  }
}
