package org.sat2diffusers.io.dtype;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.BufferOverflowException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Conversions between F32, F16 and BF16 exactly as torch does them: round to nearest, ties to even;
 * fp16 keeps subnormals and overflows to infinity; NaN stays NaN (quiet). Java 17 has no
 * Float.floatToFloat16 (it arrived in 20), hence the bit manipulation.
 */
public final class DtypeConversions {
  private DtypeConversions() {}

  /** Whether {@link #decode} / {@link #encode} handle this dtype (the types a cast or LoRA merge may touch). */
  public static boolean isCastable(Dtype dtype) {
    return dtype == Dtype.F32 || dtype == Dtype.F16 || dtype == Dtype.BF16;
  }

  public static short f32ToBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if ((bits & 0x7fffffff) > 0x7f800000) { // NaN: truncate, force the quiet bit so it stays a NaN
      return (short) ((bits >>> 16) | 0x0040);
    }
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7fff + lsb) >>> 16);
  }

  public static float bf16ToF32(short value) {
    return Float.intBitsToFloat((value & 0xffff) << 16);
  }

  public static short f32ToF16(float value) {
    int bits = Float.floatToRawIntBits(value);
    int abs = bits & 0x7fffffff;
    if (abs >= 0x38800000 && abs < 0x477ff000) {
      // the common case, a normal fp16 result (2^-14 <= |value| < 65520), without a branch on the
      // rounding: adding 0xfff plus the kept mantissa's last bit rounds to nearest, ties to even, and
      // a carry moves into the exponent; then rebias 127 -> 15. (Checked equal to the general path
      // below for all 2^32 inputs.)
      int rounded = abs + 0xfff + ((abs >>> 13) & 1);
      return (short) (((bits >>> 16) & 0x8000) | ((rounded >>> 13) - (112 << 10)));
    }
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;
    if (exp == 0xff) { // inf or NaN
      return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (e <= 0) { // fp16 subnormal (or zero): shift the full 24-bit significand into place, round
      if (e < -10) {
        return (short) sign;
      }
      int significand = mant | 0x800000;
      int shift = 14 - e;
      int half = significand >>> shift;
      int rest = significand & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rest > halfway || (rest == halfway && (half & 1) == 1)) {
        half++; // may carry into the smallest normal exponent, which is the right answer
      }
      return (short) (sign | half);
    }
    int half = (e << 10) | (mant >>> 13);
    int rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1) == 1)) {
      half++; // a carry out of the mantissa bumps the exponent; out of the top exponent gives inf
    }
    return (short) (sign | half);
  }

  /** Every fp16 pattern widened (256 KB): a load instead of branches on the hot path of casts and merges. */
  private static final float[] F16_TO_F32 = f16Table();

  public static float f16ToF32(short value) {
    return F16_TO_F32[value & 0xffff];
  }

  private static float[] f16Table() {
    float[] table = new float[1 << 16];
    for (int h = 0; h < table.length; h++) {
      table[h] = widenF16(h);
    }
    return table;
  }

  private static float widenF16(int h) {
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      float magnitude = mant * 0x1p-24f; // exact: a subnormal fp16 is a multiple of 2^-24
      return sign != 0 ? -magnitude : magnitude;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /**
   * Little-endian views of a byte array: element loads and stores the compiler keeps in a tight loop.
   * A ByteBuffer's getShort/putShort moves the buffer's position at every element, which stays in
   * the loop (in a LoRA merge's profile, a third of all Java samples were position updates).
   */
  private static final VarHandle SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle FLOATS = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);

  /**
   * Decodes {@code count} little-endian elements of {@code src} (from its position) into floats.
   * Widening to fp32 is exact for F16, BF16 and F32.
   */
  public static void decode(Dtype dtype, ByteBuffer src, float[] dst, int count) {
    checkFloatingPoint(dtype, "decode " + dtype + " as floating point");
    int bytes = Math.multiplyExact(count, dtype.size());
    if (bytes > src.remaining()) {
      throw new BufferUnderflowException();
    }
    if (src.hasArray()) {
      decode(dtype, src.array(), src.arrayOffset() + src.position(), dst, count);
    } else { // direct or read-only: through a copy
      byte[] copy = new byte[bytes];
      src.duplicate().get(copy);
      decode(dtype, copy, 0, dst, count);
    }
    src.position(src.position() + bytes);
  }

  private static void decode(Dtype dtype, byte[] in, int at, float[] dst, int count) {
    switch (dtype) {
      case F32 -> {
        for (int i = 0; i < count; i++) {
          dst[i] = (float) FLOATS.get(in, at + 4 * i);
        }
      }
      case F16 -> {
        for (int i = 0; i < count; i++) {
          dst[i] = F16_TO_F32[(short) SHORTS.get(in, at + 2 * i) & 0xffff];
        }
      }
      default -> { // BF16
        for (int i = 0; i < count; i++) {
          dst[i] = bf16ToF32((short) SHORTS.get(in, at + 2 * i));
        }
      }
    }
  }

  /** Encodes {@code count} floats as little-endian {@code dtype} elements into {@code dst}, rounding once. */
  public static void encode(Dtype dtype, float[] src, int count, ByteBuffer dst) {
    checkFloatingPoint(dtype, "encode floating point as " + dtype);
    int bytes = Math.multiplyExact(count, dtype.size());
    if (bytes > dst.remaining()) {
      throw new BufferOverflowException();
    }
    if (dst.hasArray()) {
      encode(dtype, src, count, dst.array(), dst.arrayOffset() + dst.position());
    } else { // direct: through a copy
      byte[] copy = new byte[bytes];
      encode(dtype, src, count, copy, 0);
      dst.duplicate().put(copy);
    }
    dst.position(dst.position() + bytes);
  }

  private static void encode(Dtype dtype, float[] src, int count, byte[] out, int at) {
    switch (dtype) {
      case F32 -> {
        for (int i = 0; i < count; i++) {
          FLOATS.set(out, at + 4 * i, src[i]);
        }
      }
      case F16 -> {
        for (int i = 0; i < count; i++) {
          SHORTS.set(out, at + 2 * i, f32ToF16(src[i]));
        }
      }
      default -> { // BF16
        for (int i = 0; i < count; i++) {
          SHORTS.set(out, at + 2 * i, f32ToBf16(src[i]));
        }
      }
    }
  }

  private static void checkFloatingPoint(Dtype dtype, String what) {
    if (!isCastable(dtype)) {
      throw new IllegalArgumentException("cannot " + what);
    }
  }
}
