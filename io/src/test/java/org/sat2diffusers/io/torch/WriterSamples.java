package org.sat2diffusers.io.torch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.dtype.Dtype;

/**
 * The checkpoints the writer tests write. {@link #mixed()} is, tensor for tensor, what
 * {@code io/src/test/python/torch_writer_check.py reference} builds and saves with real torch as
 * {@code torch/writer/reference.pt} (torch 1.13) and {@code torch/writer/torch2/reference.pt} (torch
 * 2.6), so the files can be compared.
 */
final class WriterSamples {
  private WriterSamples() {}

  record Sample(List<TensorToWrite> tensors, Map<String, Object> values) {}

  static Sample mixed() {
    List<TensorToWrite> tensors = new ArrayList<>();
    TensorToWrite.Storage f32 = storage(Dtype.F32, floats(-1f, -0.5f, 0f, 0.5f, 1f, 1.5f));
    tensors.add(new TensorToWrite("f32", f32, 0, List.of(2L, 3L), List.of(3L, 1L)));
    tensors.add(new TensorToWrite("f32.t", f32, 0, List.of(3L, 2L), List.of(1L, 3L)));
    tensors.add(contiguous("bf16", Dtype.BF16, List.of(4L), shorts(0x3f80, 0xc000, 0x7fc0, 0x0001)));
    tensors.add(contiguous("f16", Dtype.F16, List.of(2L, 2L), shorts(0x3c00, 0xc000, 0x7bff, 0x0001)));
    tensors.add(contiguous("i64", Dtype.I64, List.of(4L), longs(-1, 0, 1L << 40, Long.MIN_VALUE)));
    tensors.add(contiguous("bool", Dtype.BOOL, List.of(5L), new byte[] {1, 0, 1, 1, 0}));
    tensors.add(contiguous("scalar", Dtype.F64, List.of(), doubles(3.25)));
    tensors.add(contiguous("empty", Dtype.BF16, List.of(0L), new byte[0]));
    TensorToWrite.Storage tied = storage(Dtype.F32, floats(0.25f, 1.25f, 2.25f, 3.25f, 4.25f, 5.25f, 6.25f, 7.25f));
    tensors.add(new TensorToWrite("shared.weight", tied, 0, List.of(4L, 2L), List.of(2L, 1L)));
    tensors.add(new TensorToWrite("encoder.embed_tokens.weight", tied, 0, List.of(4L, 2L), List.of(2L, 1L)));
    TensorToWrite.Storage ints = storage(Dtype.I32, ints(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
    tensors.add(new TensorToWrite("offset_view", ints, 3, List.of(2L, 2L), List.of(2L, 1L)));
    tensors.add(contiguous("u8", Dtype.U8, List.of(3L), new byte[] {0, (byte) 255, 7}));
    tensors.add(contiguous("i8", Dtype.I8, List.of(2L), new byte[] {(byte) -128, 127}));
    tensors.add(contiguous("i16", Dtype.I16, List.of(2L), shorts(0x8000, 12345)));
    tensors.add(contiguous("i32", Dtype.I32, List.of(2L), ints(Integer.MIN_VALUE, Integer.MAX_VALUE)));
    tensors.add(contiguous("f64", Dtype.F64, List.of(2L), doubles(1e300, -0.0)));
    Map<String, Object> values = new LinkedHashMap<>();
    values.put("iteration", 1000L);
    values.put("note", "reverse");
    values.put("flag", true);
    values.put("nothing", null);
    return new Sample(tensors, values);
  }

  /** {@code count} one-byte tensors {@code t<i>} = [i % 256], each with its own storage: a zip of count + 4 entries. */
  static Sample manyEntries(int count) {
    List<TensorToWrite> tensors = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      tensors.add(contiguous("t" + i, Dtype.U8, List.of(1L), new byte[] {(byte) i}));
    }
    return new Sample(tensors, Map.of());
  }

  /** The bytes {@code storage} holds, as given to the writer. */
  static byte[] storageBytes(TensorToWrite.Storage storage) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    storage.source().writeTo(out, new byte[64]);
    return out.toByteArray();
  }

  static TensorToWrite contiguous(String name, Dtype dtype, List<Long> shape, byte[] bytes) {
    return TensorToWrite.contiguous(name, dtype, shape, StorageSource.bytes(bytes));
  }

  static TensorToWrite.Storage storage(Dtype dtype, byte[] bytes) {
    return new TensorToWrite.Storage(dtype, StorageSource.bytes(bytes));
  }

  static byte[] floats(float... values) {
    ByteBuffer b = le(4 * values.length);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.array();
  }

  static byte[] doubles(double... values) {
    ByteBuffer b = le(8 * values.length);
    for (double v : values) {
      b.putDouble(v);
    }
    return b.array();
  }

  static byte[] shorts(int... values) {
    ByteBuffer b = le(2 * values.length);
    for (int v : values) {
      b.putShort((short) v);
    }
    return b.array();
  }

  static byte[] ints(int... values) {
    ByteBuffer b = le(4 * values.length);
    for (int v : values) {
      b.putInt(v);
    }
    return b.array();
  }

  static byte[] longs(long... values) {
    ByteBuffer b = le(8 * values.length);
    for (long v : values) {
      b.putLong(v);
    }
    return b.array();
  }

  private static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }
}
