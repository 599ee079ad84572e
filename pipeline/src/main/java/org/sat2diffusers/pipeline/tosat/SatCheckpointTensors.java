package org.sat2diffusers.pipeline.tosat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.DtypeConversions;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.torch.StorageSource;
import org.sat2diffusers.io.torch.TensorToWrite;
import org.sat2diffusers.transforms.records.SatTensor;

/**
 * A planned SAT state dict as the torch writer's tensors: each storage streamed from its recipe when
 * the writer reaches it (its byte ranges one after the other, or cast element by element through the
 * writer's buffer, or its recomputed bytes), a tied tensor given its owner's storage.
 */
public final class SatCheckpointTensors {
  private SatCheckpointTensors() {}

  /** @param inputs the open safetensors files, by path, that the ranges lie in */
  public static List<TensorToWrite> of(List<SatTensor> plan, Map<String, RandomAccessInput> inputs) {
    Map<String, TensorToWrite.Storage> storages = new HashMap<>();
    List<TensorToWrite> out = new ArrayList<>();
    for (SatTensor t : plan) {
      TensorToWrite.Storage storage;
      if (t.tiedTo() != null) {
        storage = storages.get(t.tiedTo());
        if (storage == null) {
          throw new IllegalArgumentException("tensor '" + t.key() + "' is tied to '" + t.tiedTo() + "', which comes later");
        }
      } else {
        storage = new TensorToWrite.Storage(t.dtype(), source(t, inputs));
      }
      storages.put(t.key(), storage);
      out.add(new TensorToWrite(t.key(), storage, 0, t.shape(), TensorToWrite.rowMajorStrides(t.shape())));
    }
    return out;
  }

  private static StorageSource source(SatTensor t, Map<String, RandomAccessInput> inputs) {
    if (t.recomputed()) {
      return StorageSource.bytes(t.generated());
    }
    List<ByteRange> ranges = t.sources();
    for (ByteRange r : ranges) {
      if (!inputs.containsKey(r.file())) {
        throw new IllegalArgumentException("tensor '" + t.key() + "': " + r.file() + " is not open");
      }
    }
    return t.dtype() == t.sourceDtype() ? new Concatenation(ranges, inputs) : new Cast(t, inputs);
  }

  /** Byte ranges one after the other: a fused query_key_value, a re-fused adaLN modulation, a plain copy. */
  private record Concatenation(List<ByteRange> ranges, Map<String, RandomAccessInput> inputs) implements StorageSource {
    @Override
    public long byteLength() {
      return ranges.stream().mapToLong(ByteRange::length).sum();
    }

    @Override
    public void writeTo(OutputStream out, byte[] buffer) throws IOException {
      for (ByteRange r : ranges) {
        StorageSource.range(inputs.get(r.file()), r.offset(), r.length()).writeTo(out, buffer);
      }
    }
  }

  /**
   * The ranges' elements cast to the tensor's dtype (round to nearest even, as torch): a chunk the
   * size of the writer's buffer at a time is read, widened to fp32 (exact), narrowed once and written.
   */
  private record Cast(SatTensor tensor, Map<String, RandomAccessInput> inputs) implements StorageSource {
    @Override
    public long byteLength() {
      return Shapes.byteLength(tensor.dtype(), tensor.shape());
    }

    @Override
    public void writeTo(OutputStream out, byte[] buffer) throws IOException {
      Dtype from = tensor.sourceDtype();
      Dtype to = tensor.dtype();
      int perChunk = Math.max(1, buffer.length / Math.max(from.size(), to.size()) / 2);
      float[] values = new float[perChunk];
      byte[] read = new byte[perChunk * from.size()];
      ByteBuffer written = ByteBuffer.allocate(perChunk * to.size());
      for (ByteRange r : tensor.sources()) {
        long elements = r.length() / from.size();
        for (long done = 0; done < elements; ) {
          int n = (int) Math.min(perChunk, elements - done);
          inputs.get(r.file()).readFully(r.offset() + done * from.size(), read, 0, n * from.size());
          DtypeConversions.decode(from, ByteBuffer.wrap(read, 0, n * from.size()), values, n);
          written.clear();
          DtypeConversions.encode(to, values, n, written);
          out.write(written.array(), 0, n * to.size());
          done += n;
        }
      }
    }
  }
}
