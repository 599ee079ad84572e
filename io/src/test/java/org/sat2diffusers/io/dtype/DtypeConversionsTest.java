package org.sat2diffusers.io.dtype;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.BufferOverflowException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.storage.Fixtures;

/** Every conversion against torch's own results in testdata/dtype/vectors.json. */
class DtypeConversionsTest {
  private static JsonNode vectors;

  @BeforeAll
  static void load() throws IOException {
    vectors = new ObjectMapper().readTree(Fixtures.testdata().resolve("dtype/vectors.json").toFile());
  }

  private interface Conversion {
    long apply(long inputBits);
  }

  private interface NanTest {
    boolean isNan(long bits);
  }

  private static final NanTest F32_NAN = bits -> Float.isNaN(Float.intBitsToFloat((int) bits));
  private static final NanTest F16_NAN = bits -> (bits & 0x7c00) == 0x7c00 && (bits & 0x3ff) != 0;
  private static final NanTest BF16_NAN = bits -> (bits & 0x7f80) == 0x7f80 && (bits & 0x7f) != 0;

  /** Applies the conversion to each [input bits, torch's output bits] pair; NaN out of torch accepts any NaN. */
  private static void check(String table, int minimumCount, NanTest outputNan, Conversion conversion) {
    JsonNode pairs = vectors.get(table);
    assertTrue(pairs.size() >= minimumCount, table + " has only " + pairs.size() + " vectors");
    List<String> mismatches = new ArrayList<>();
    for (JsonNode pair : pairs) {
      long in = pair.get(0).asLong();
      long expected = pair.get(1).asLong();
      long actual = conversion.apply(in);
      if (actual != expected && !(outputNan.isNan(expected) && outputNan.isNan(actual))) {
        mismatches.add(String.format("0x%x -> 0x%x, torch 0x%x", in, actual, expected));
      }
    }
    assertEquals(List.of(), mismatches.subList(0, Math.min(10, mismatches.size())),
        table + ": " + mismatches.size() + " mismatches");
  }

  @Test
  void f32ToBf16MatchesTorch() {
    check("f32_to_bf16", 25_000, BF16_NAN, in -> DtypeConversions.f32ToBf16(Float.intBitsToFloat((int) in)) & 0xffff);
  }

  @Test
  void f32ToF16MatchesTorch() {
    check("f32_to_f16", 25_000, F16_NAN, in -> DtypeConversions.f32ToF16(Float.intBitsToFloat((int) in)) & 0xffff);
  }

  /**
   * Every finite fp16 value comes back exactly, and the fp32 halfway point between two neighbours
   * rounds to the one with the even mantissa (the ties torch's vectors rarely hit), a hair above
   * it to the upper and a hair below to the lower one: all exponents, normal and subnormal.
   */
  @Test
  void f32ToF16RoundsEveryTieToEven() {
    for (int h = 0; h < 0x7bff; h++) { // up to the largest finite value's lower neighbour
      float low = DtypeConversions.f16ToF32((short) h);
      float high = DtypeConversions.f16ToF32((short) (h + 1));
      assertEquals((short) h, DtypeConversions.f32ToF16(low), Integer.toHexString(h));
      float tie = (low + high) / 2; // exact in fp32: fp16 neighbours differ in 11 significant bits
      short even = (short) ((h & 1) == 0 ? h : h + 1);
      assertEquals(even, DtypeConversions.f32ToF16(tie), "tie above " + Integer.toHexString(h));
      assertEquals((short) (h + 1), DtypeConversions.f32ToF16(Math.nextUp(tie)), Integer.toHexString(h));
      assertEquals((short) h, DtypeConversions.f32ToF16(Math.nextDown(tie)), Integer.toHexString(h));
      assertEquals((short) (0x8000 | even), DtypeConversions.f32ToF16(-tie), "negative tie above " + Integer.toHexString(h));
    }
    assertEquals((short) 0x7bff, DtypeConversions.f32ToF16(Math.nextDown(65520f)), "below the overflow tie");
    assertEquals((short) 0x7c00, DtypeConversions.f32ToF16(65520f), "the overflow tie rounds to infinity");
  }

  @Test
  void f16ToF32MatchesTorchForAllPatterns() {
    check("f16_to_f32", 65_536, F32_NAN, in -> Float.floatToRawIntBits(DtypeConversions.f16ToF32((short) in)) & 0xffffffffL);
  }

  @Test
  void bf16ToF32MatchesTorchForAllPatterns() {
    check("bf16_to_f32", 65_536, F32_NAN, in -> Float.floatToRawIntBits(DtypeConversions.bf16ToF32((short) in)) & 0xffffffffL);
  }

  @Test
  void encodeAndDecodeWorkOnLittleEndianBuffersAndAdvanceThem() {
    float[] values = {1.0f, -2.5f, 65504f, 1e-8f};
    for (Dtype dtype : List.of(Dtype.F32, Dtype.F16, Dtype.BF16)) {
      ByteBuffer buffer = ByteBuffer.allocate(values.length * dtype.size()).order(ByteOrder.BIG_ENDIAN);
      DtypeConversions.encode(dtype, values, values.length, buffer);
      assertEquals(buffer.capacity(), buffer.position(), dtype + " encode position");
      buffer.flip();
      float[] decoded = new float[values.length];
      DtypeConversions.decode(dtype, buffer, decoded, values.length);
      assertEquals(buffer.limit(), buffer.position(), dtype + " decode position");
      float[] expected = new float[values.length];
      for (int i = 0; i < values.length; i++) {
        expected[i] = switch (dtype) {
          case F16 -> DtypeConversions.f16ToF32(DtypeConversions.f32ToF16(values[i]));
          case BF16 -> DtypeConversions.bf16ToF32(DtypeConversions.f32ToBf16(values[i]));
          default -> values[i];
        };
      }
      assertArrayEquals(expected, decoded, dtype.toString());
    }
    ByteBuffer half = ByteBuffer.allocate(2);
    DtypeConversions.encode(Dtype.F16, new float[] {1.0f}, 1, half);
    assertArrayEquals(new byte[] {0x00, 0x3c}, half.array(), "F16 1.0 little-endian");
  }

  /** Heap buffers at an offset, direct and read-only buffers: the same elements, the positions moved. */
  @Test
  void everyKindOfBufferDecodesAndEncodesAlikeFromItsPosition() {
    float[] values = {1.0f, -2.5f, 0.0078125f, 65504f, -0.0f, 3.0e-5f};
    for (Dtype dtype : List.of(Dtype.F32, Dtype.F16, Dtype.BF16)) {
      int bytes = values.length * dtype.size();
      ByteBuffer plain = ByteBuffer.allocate(bytes);
      DtypeConversions.encode(dtype, values, values.length, plain);
      ByteBuffer sliced = ByteBuffer.allocate(bytes + 5).position(3).slice(); // arrayOffset 3
      ByteBuffer direct = ByteBuffer.allocateDirect(bytes + 1).position(1);
      for (ByteBuffer target : List.of(sliced, direct)) {
        DtypeConversions.encode(dtype, values, values.length, target);
        assertEquals(target == direct ? bytes + 1 : bytes, target.position(), dtype + ": position after encoding");
        byte[] written = new byte[bytes];
        target.duplicate().position(target.position() - bytes).get(written);
        assertArrayEquals(plain.array(), written, dtype + " into " + target);
      }
      float[] expected = new float[values.length];
      DtypeConversions.decode(dtype, ByteBuffer.wrap(plain.array()), expected, values.length);
      for (ByteBuffer source : List.of(ByteBuffer.wrap(plain.array()).asReadOnlyBuffer(),
          ByteBuffer.allocateDirect(bytes).put(plain.array()).flip())) {
        float[] decoded = new float[values.length];
        DtypeConversions.decode(dtype, source, decoded, values.length);
        assertArrayEquals(expected, decoded, dtype + " from " + source);
        assertEquals(bytes, source.position(), dtype + ": position after decoding");
      }
      assertThrows(BufferUnderflowException.class,
          () -> DtypeConversions.decode(dtype, ByteBuffer.allocate(bytes - 1), new float[values.length], values.length));
      assertThrows(BufferOverflowException.class,
          () -> DtypeConversions.encode(dtype, values, values.length, ByteBuffer.allocate(bytes - 1)));
    }
  }
}
