package org.sat2diffusers.pipeline.write;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.ForwardingRandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.transforms.lora.LoraMergeCase;
import org.sat2diffusers.transforms.lora.Ulp;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.ComponentTensor;
import org.sat2diffusers.transforms.records.LoraDelta;
import org.sat2diffusers.transforms.records.OutputTensor;
import org.sat2diffusers.transforms.records.SourceTensor;
import org.sat2diffusers.transforms.records.TestTensors;
import org.sat2diffusers.transforms.rules.TransformerRules;

class TensorAssemblerTest {
  @TempDir Path dir;

  @Test
  void copiesRangesFromSeveralFilesInOrder() throws IOException {
    Path first = file("a.bin", bytes(0, 100));
    Path second = file("b.bin", bytes(100, 50));
    OutputTensor t = output(Dtype.U8, Dtype.U8, List.of(30L), null,
        new ByteRange(second.toString(), 7 + 10, 20), new ByteRange(first.toString(), 7 + 90, 10));
    byte[] expected = new byte[30];
    System.arraycopy(bytes(100, 50), 10, expected, 0, 20);
    System.arraycopy(bytes(0, 100), 90, expected, 20, 10);
    assertArrayEquals(expected, assemble(t, 16));
  }

  @Test
  void writesEachChunkOfARowSplit() throws IOException {
    float[] qkv = iota(6 * 4); // [6, 4]: to_q rows 0-1, to_k rows 2-3, to_v rows 4-5
    List<ComponentTensor> chunks = component("qkv", Dtype.F32, List.of(6L, 4L), floats(qkv)).chunks(3);
    for (int i = 0; i < 3; i++) {
      byte[] got = assemble(output(chunks.get(i), Dtype.F32), 20);
      assertArrayEquals(Arrays.copyOfRange(qkv, i * 8, i * 8 + 8), toFloats(got), "chunk " + i);
    }
  }

  @Test
  void reordersAdaLnChunksIntoNorm1AndNorm2() throws IOException {
    float[] rows = iota(24 * 3); // [24, 3]: 12 chunks of 2 rows
    ComponentTensor adaLn = component("mixins.adaln_layer.adaLN_modulations.0.1.weight", Dtype.F32, List.of(24L, 3L), floats(rows));
    List<ComponentTensor> out = new TransformerRules().apply(List.of(adaLn)).get(0).outputs();
    assertEquals(List.of("transformer_blocks.0.norm1.linear.weight", "transformer_blocks.0.norm2.linear.weight"),
        out.stream().map(ComponentTensor::key).toList());
    assertArrayEquals(rowsOfChunks(rows, 0, 1, 2, 6, 7, 8), toFloats(assemble(output(out.get(0), Dtype.F32), 32)));
    assertArrayEquals(rowsOfChunks(rows, 3, 4, 5, 9, 10, 11), toFloats(assemble(output(out.get(1), Dtype.F32), 32)));
  }

  @Test
  void castsRoundToNearestEvenAsTorch() throws IOException {
    int[] bits = {0x3F800000, 0x3F808000, 0x3F818000, 0x3F801000, 0x3F803000, 0x477FF000, 0x33800000, 0xC0000000};
    float[] values = new float[bits.length];
    for (int i = 0; i < bits.length; i++) {
      values[i] = Float.intBitsToFloat(bits[i]);
    }
    ComponentTensor t = component("x", Dtype.F32, List.of((long) values.length), floats(values));
    // torch's results: 1+2^-8 and 1+2^-11 are ties to even (down) in bf16 and fp16, 1+3*2^-8 and
    // 1+3*2^-11 ties up; 65520 overflows fp16; 2^-24 is fp16's smallest subnormal
    assertArrayEquals(shorts(0x3F80, 0x3F80, 0x3F82, 0x3F80, 0x3F80, 0x4780, 0x3380, 0xC000),
        assemble(output(t, Dtype.BF16), 16));
    assertArrayEquals(shorts(0x3C00, 0x3C04, 0x3C0C, 0x3C00, 0x3C02, 0x7C00, 0x0001, 0xC000),
        assemble(output(t, Dtype.F16), 16));
    ComponentTensor half = component("h", Dtype.BF16, List.of(2L), shorts(0x3F80, 0xC040));
    assertArrayEquals(floats(new float[] {1f, -3f}), assemble(output(half, Dtype.F32), 16));
  }

  @Test
  void scaledTensorsAreMultipliedInFp32AndRoundedOnceAsTorch() throws IOException {
    ComponentTensor b = component("b", Dtype.BF16, List.of(6L), shorts(0x3F80, 0x4040, 0xBF81, 0x3EAB, 0x7F00, 0x0001));
    OutputTensor scaled = output(b, Dtype.BF16).scaled((float) (1.0 / 3));
    assertFalse(scaled.isPlainCopy());
    // torch: (b.float() * torch.tensor(1/3, dtype=torch.float32)).bfloat16()
    assertArrayEquals(shorts(0x3EAB, 0x3F80, 0xBEAC, 0x3DE4, 0x7E2B, 0x0000), assemble(scaled, 16));
    assertThrows(IllegalArgumentException.class, () -> output(b, Dtype.BF16).scaled(0f));
  }

  static List<LoraMergeCase> loraCases() {
    return LoraMergeCase.all();
  }

  @ParameterizedTest
  @MethodSource("loraCases")
  void mergesLoraFromFilesWithinOneUlpOfTorch(LoraMergeCase c) throws IOException {
    ComponentTensor merged = loraTensor(c);
    // 3 rows per block: blocks straddle nothing but stop at part boundaries
    assertTrue(Ulp.maxDistance(c.dtype(), c.expected(), assemble(output(merged, c.dtype()), 3 * c.in() * 4)) <= 1);

    long rowBytes = (long) c.in() * c.dtype().size();
    List<ComponentTensor> pieces = c.parts() == 3 ? merged.chunks(3) : List.of(merged.rows("slice", 5, 7));
    long firstRow = c.parts() == 3 ? 0 : 5;
    for (ComponentTensor piece : pieces) {
      byte[] expected = Arrays.copyOfRange(c.expected(), (int) (firstRow * rowBytes), (int) ((firstRow + piece.rows()) * rowBytes));
      assertTrue(Ulp.maxDistance(c.dtype(), expected, assemble(output(piece, c.dtype()), 64)) <= 1, "rows from " + firstRow);
      firstRow += piece.rows();
    }
  }

  @Test
  void opensEachFileOnceAndClosesOnClose() throws IOException {
    Path f = file("x.bin", bytes(0, 64));
    List<String> opened = new ArrayList<>();
    List<String> closed = new ArrayList<>();
    SourceOpener opener = path -> {
      opened.add(path);
      return new ForwardingRandomAccessInput(RandomAccessInputs.open(path)) {
        @Override
        public void close() throws IOException {
          closed.add(path);
          super.close();
        }
      };
    };
    OutputTensor t = output(Dtype.U8, Dtype.U8, List.of(8L), null, new ByteRange(f.toString(), 7, 8));
    try (TensorAssembler assembler = new TensorAssembler(opener)) {
      assembler.write(t, new ByteArrayOutputStream());
      assembler.write(t, new ByteArrayOutputStream());
    }
    assertEquals(List.of(f.toString()), opened);
    assertEquals(List.of(f.toString()), closed);
  }

  @Test
  void rejectsSourcesThatDoNotFillTheShape() throws IOException {
    Path f = file("x.bin", bytes(0, 64));
    OutputTensor t = output(Dtype.F32, Dtype.F32, List.of(4L), null, new ByteRange(f.toString(), 0, 12));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> assemble(t, 64));
    assertTrue(e.getMessage().contains("'t'") && e.getMessage().contains("12 bytes"), e.getMessage());
  }

  private ComponentTensor loraTensor(LoraMergeCase c) throws IOException {
    Path w = file("w.bin", c.w());
    List<List<ByteRange>> a = new ArrayList<>();
    List<List<ByteRange>> b = new ArrayList<>();
    for (int i = 0; i < c.parts(); i++) {
      a.add(List.of(new ByteRange(file("a" + i, c.a().get(i)).toString(), 7, c.a().get(i).length)));
      b.add(List.of(new ByteRange(file("b" + i, c.b().get(i)).toString(), 7, c.b().get(i).length)));
    }
    LoraDelta delta = new LoraDelta(c.dtype(), a, b, c.rank(), c.in(), c.outPerPart(), c.alpha(), c.scale());
    ComponentTensor base = component("w", c.dtype(), List.of((long) c.parts() * c.outPerPart(), (long) c.in()), c.w());
    return new ComponentTensor("w", c.dtype(), base.shape(), base.sources(), delta, base.sourceKeys(), base.origin());
  }

  /** A tensor stored at offset 7 of its own file. */
  private ComponentTensor component(String key, Dtype dtype, List<Long> shape, byte[] data) throws IOException {
    Path f = file(key + ".bin", data);
    return ComponentTensor.of(key, new SourceTensor(f.toString(), TestTensors.record(key, dtype, 7, List.of(), shape)));
  }

  /** Writes {@code data} after 7 filler bytes, so that offsets matter. */
  private Path file(String name, byte[] data) throws IOException {
    byte[] withFiller = new byte[data.length + 7];
    Arrays.fill(withFiller, 0, 7, (byte) 0x5A);
    System.arraycopy(data, 0, withFiller, 7, data.length);
    return Files.write(dir.resolve(name), withFiller);
  }

  private static OutputTensor output(ComponentTensor t, Dtype dtype) {
    return new OutputTensor(Component.TRANSFORMER, t.key(), dtype, t.shape(), t.dtype(), t.sources(), t.lora(), t.sourceKeys());
  }

  private static OutputTensor output(Dtype dtype, Dtype sourceDtype, List<Long> shape, LoraDelta lora, ByteRange... ranges) {
    return new OutputTensor(Component.TRANSFORMER, "t", dtype, shape, sourceDtype, List.of(ranges), lora, List.of("t"));
  }

  private static byte[] assemble(OutputTensor t, int bufferBytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TensorAssembler assembler = new TensorAssembler(RandomAccessInputs::open, bufferBytes)) {
      assembler.write(t, out);
    }
    return out.toByteArray();
  }

  private static float[] rowsOfChunks(float[] rows, int... chunks) {
    float[] out = new float[chunks.length * 6];
    for (int i = 0; i < chunks.length; i++) {
      System.arraycopy(rows, chunks[i] * 6, out, i * 6, 6);
    }
    return out;
  }

  private static float[] iota(int n) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = i;
    }
    return out;
  }

  private static byte[] bytes(int start, int n) {
    byte[] out = new byte[n];
    for (int i = 0; i < n; i++) {
      out[i] = (byte) (start + i);
    }
    return out;
  }

  private static byte[] floats(float[] values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      buf.putFloat(v);
    }
    return buf.array();
  }

  private static float[] toFloats(byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    float[] out = new float[bytes.length / 4];
    for (int i = 0; i < out.length; i++) {
      out[i] = buf.getFloat();
    }
    return out;
  }

  private static byte[] shorts(int... values) {
    ByteBuffer buf = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      buf.putShort((short) v);
    }
    return buf.array();
  }
}
