package org.sat2diffusers.pipeline.write;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.DtypeConversions;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.io.storage.RangeSink;
import org.sat2diffusers.transforms.lora.LoraMergeKernel;
import org.sat2diffusers.transforms.records.LoraDelta;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * Executes output tensor recipes: reads the source ranges, applies the cast and the LoRA merge, and
 * streams the bytes out. Memory is bounded by the buffer size (plus one LoRA part's A and B), never
 * by the tensor. Plain copies into a {@link RangeSink} go zero-copy where the sink and the source
 * allow it. Opens each source file once and keeps it open until {@link #close}; reuses its buffers.
 * Not thread-safe: use one per writing thread.
 */
public final class TensorAssembler implements Closeable {
  public static final int DEFAULT_BUFFER_BYTES = 4 << 20;

  private final SourceOpener opener;
  private final int bufferBytes;
  private final Map<String, RandomAccessInput> inputs = new HashMap<>();
  private byte[] bytesIn = new byte[0];
  private byte[] bytesOut = new byte[0];
  private float[] floats = new float[0];
  private final LoraMergeKernel.Scratch mergeScratch = new LoraMergeKernel.Scratch();

  public TensorAssembler(SourceOpener opener) {
    this(opener, DEFAULT_BUFFER_BYTES);
  }

  /** @param bufferBytes bytes read or written per step (at least 16) */
  public TensorAssembler(SourceOpener opener, int bufferBytes) {
    if (bufferBytes < 16) {
      throw new IllegalArgumentException("buffer of " + bufferBytes + " bytes is too small");
    }
    this.opener = opener;
    this.bufferBytes = bufferBytes;
  }

  /** Writes the tensor's bytes ({@link OutputTensor#byteLength()} of them) to {@code out}; does not close it. */
  public void write(OutputTensor tensor, WritableByteChannel out) throws IOException {
    write(tensor, Channels.newOutputStream(out));
  }

  /**
   * Writes the tensor's bytes ({@link OutputTensor#byteLength()} of them) to {@code out}; does not
   * close it. A plain copy into a {@link RangeSink} is offered to it range by range first.
   */
  public void write(OutputTensor tensor, OutputStream out) throws IOException {
    long sourceBytes = tensor.sources().stream().mapToLong(ByteRange::length).sum();
    long needed = Shapes.byteLength(tensor.sourceDtype(), tensor.shape());
    if (sourceBytes != needed) {
      throw new IllegalArgumentException(
          "tensor '" + tensor.name() + "': its source ranges hold " + sourceBytes + " bytes, but "
              + tensor.sourceDtype() + tensor.shape() + " needs " + needed);
    }
    RangeCursor source = new RangeCursor(tensor.sources());
    if (tensor.lora() != null) {
      mergeLora(tensor, source, out);
    } else if (tensor.isPlainCopy()) {
      if (!(out instanceof RangeSink sink) || !transfer(tensor.sources(), sink)) {
        copy(sourceBytes, source, out);
      }
    } else {
      cast(tensor, source, out);
    }
  }

  /**
   * Offers every range to the sink; false when it takes none (then nothing was written). A sink that
   * took the first range takes the others too: same input kinds, same target.
   */
  private boolean transfer(List<ByteRange> ranges, RangeSink sink) throws IOException {
    for (int i = 0; i < ranges.size(); i++) {
      ByteRange r = ranges.get(i);
      if (!sink.transferFrom(input(r.file()), r.offset(), r.length())) {
        if (i > 0) {
          throw new IOException("zero-copy transfer of " + r.file() + " refused after an earlier range was taken");
        }
        return false;
      }
    }
    return true;
  }

  private void copy(long bytes, RangeCursor source, OutputStream out) throws IOException {
    byte[] buf = bytesIn((int) Math.min(bufferBytes, bytes));
    for (long done = 0; done < bytes; ) {
      int n = (int) Math.min(buf.length, bytes - done);
      source.read(buf, n);
      out.write(buf, 0, n);
      done += n;
    }
  }

  /** Widens to fp32, applies the tensor's scale, rounds once to the output dtype. */
  private void cast(OutputTensor tensor, RangeCursor source, OutputStream out) throws IOException {
    Dtype from = tensor.sourceDtype();
    Dtype to = tensor.dtype();
    float scale = tensor.scale();
    int perStep = (int) Math.max(1, Math.min(tensor.numel(), bufferBytes / Math.max(from.size(), to.size())));
    byte[] in = bytesIn(perStep * from.size());
    byte[] encoded = bytesOut(perStep * to.size());
    float[] values = floats(perStep);
    for (long done = 0; done < tensor.numel(); ) {
      int n = (int) Math.min(perStep, tensor.numel() - done);
      source.read(in, n * from.size());
      DtypeConversions.decode(from, ByteBuffer.wrap(in, 0, n * from.size()), values, n);
      if (scale != 1f) {
        for (int i = 0; i < n; i++) {
          values[i] *= scale;
        }
      }
      DtypeConversions.encode(to, values, n, ByteBuffer.wrap(encoded));
      out.write(encoded, 0, n * to.size());
      done += n;
    }
  }

  /** Row blocks of W, each widened to fp32, merged with its part's update, rounded once, written. */
  private void mergeLora(OutputTensor tensor, RangeCursor source, OutputStream out) throws IOException {
    LoraDelta lora = tensor.lora();
    List<Long> shape = tensor.shape();
    if (shape.size() != 2 || shape.get(1) != lora.inFeatures() || shape.get(0) != lora.parts() * lora.outPerPart()) {
      throw new IllegalArgumentException(
          "tensor '" + tensor.name() + "' " + shape + " does not match its LoRA update: " + lora.parts() + " parts of "
              + lora.outPerPart() + " rows, " + lora.inFeatures() + " columns");
    }
    int cols = Math.toIntExact(lora.inFeatures());
    int perPart = Math.toIntExact(lora.outPerPart());
    int rank = lora.rank();
    int blockRows = Math.max(1, Math.min(perPart, bufferBytes / (cols * 4)));
    Dtype from = tensor.sourceDtype();
    byte[] in = bytesIn(blockRows * cols * from.size());
    byte[] encoded = bytesOut(blockRows * cols * tensor.dtype().size());
    float[] w = floats(blockRows * cols);
    for (int part = 0; part < lora.parts(); part++) {
      float[] a = readFloats(lora.dtype(), lora.a().get(part), Math.multiplyExact(rank, cols), tensor.name() + " A." + part);
      float[] b = readFloats(lora.dtype(), lora.b().get(part), Math.multiplyExact(perPart, rank), tensor.name() + " B." + part);
      for (int row = 0; row < perPart; row += blockRows) {
        int rows = Math.min(blockRows, perPart - row);
        int count = rows * cols;
        source.read(in, count * from.size());
        DtypeConversions.decode(from, ByteBuffer.wrap(in, 0, count * from.size()), w, count);
        LoraMergeKernel.addDelta(w, rows, cols, a, b, row, rank, lora.scale(), mergeScratch);
        DtypeConversions.encode(tensor.dtype(), w, count, ByteBuffer.wrap(encoded));
        out.write(encoded, 0, count * tensor.dtype().size());
      }
    }
  }

  private float[] readFloats(Dtype dtype, List<ByteRange> ranges, int count, String what) throws IOException {
    long length = ByteRange.length(ranges);
    if (length != (long) count * dtype.size()) {
      throw new IllegalArgumentException(
          "LoRA matrix " + what + ": ranges of " + length + " bytes in " + ranges.stream().map(ByteRange::file)
              .distinct().toList() + ", expected " + count + " " + dtype + " elements");
    }
    byte[] bytes = new byte[(int) length];
    int at = 0;
    for (ByteRange range : ranges) {
      input(range.file()).readFully(range.offset(), bytes, at, (int) range.length());
      at += (int) range.length();
    }
    float[] values = new float[count];
    DtypeConversions.decode(dtype, ByteBuffer.wrap(bytes), values, count);
    return values;
  }

  private byte[] bytesIn(int length) {
    if (bytesIn.length < length) {
      bytesIn = new byte[length];
    }
    return bytesIn;
  }

  private byte[] bytesOut(int length) {
    if (bytesOut.length < length) {
      bytesOut = new byte[length];
    }
    return bytesOut;
  }

  private float[] floats(int length) {
    if (floats.length < length) {
      floats = new float[length];
    }
    return floats;
  }

  private RandomAccessInput input(String file) throws IOException {
    RandomAccessInput in = inputs.get(file);
    if (in == null) {
      in = opener.open(file);
      inputs.put(file, in);
    }
    return in;
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (RandomAccessInput in : inputs.values()) {
      try {
        in.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    inputs.clear();
    if (first != null) {
      throw first;
    }
  }

  /** Reads the concatenation of byte ranges front to back. */
  private final class RangeCursor {
    private final List<ByteRange> ranges;
    private int index;
    private long offsetInRange;

    RangeCursor(List<ByteRange> ranges) {
      this.ranges = ranges;
    }

    /** Fills {@code buf[0, length)} with the next bytes. */
    void read(byte[] buf, int length) throws IOException {
      int filled = 0;
      while (filled < length) {
        ByteRange r = ranges.get(index);
        int n = (int) Math.min(length - filled, r.length() - offsetInRange);
        input(r.file()).readFully(r.offset() + offsetInRange, buf, filled, n);
        filled += n;
        offsetInRange += n;
        if (offsetInRange == r.length()) {
          index++;
          offsetInRange = 0;
        }
      }
    }
  }
}
