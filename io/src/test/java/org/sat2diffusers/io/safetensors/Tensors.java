package org.sat2diffusers.io.safetensors;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;

/** The tensors of make_reference.py (same names, dtypes, shapes and byte pattern), for these tests. */
final class Tensors {
  private Tensors() {}

  static final List<TensorSpec> REFERENCE = List.of(
      spec("transformer.weight", Dtype.F32, 3, 4),
      spec("b.f64", Dtype.F64, 2),
      spec("c.f16", Dtype.F16, 5),
      spec("d.bf16", Dtype.BF16, 2, 3),
      spec("e.i64", Dtype.I64, 3),
      spec("f.i32.scalar", Dtype.I32),
      spec("g.i16", Dtype.I16, 7),
      spec("h.i8", Dtype.I8, 3),
      spec("i.u8", Dtype.U8, 5),
      spec("j.bool", Dtype.BOOL, 4),
      spec("k.empty", Dtype.F32, 0, 4),
      spec("l.scalar", Dtype.BF16),
      spec("a.empty", Dtype.F16, 0),
      spec("z.unicode.\u00fc", Dtype.F32, 1),
      spec("A.upper", Dtype.F32, 2, 1, 1));

  static TensorSpec spec(String name, Dtype dtype, long... shape) {
    return new TensorSpec(name, dtype, Arrays.stream(shape).boxed().toList());
  }

  /** The bytes of REFERENCE tensor {@code name}: (37k + 11i + 5) mod 256 for tensor k, i & 1 for BOOL. */
  static byte[] bytes(String name) {
    for (int k = 0; k < REFERENCE.size(); k++) {
      TensorSpec spec = REFERENCE.get(k);
      if (spec.name().equals(name)) {
        byte[] bytes = new byte[(int) spec.byteLength()];
        for (int i = 0; i < bytes.length; i++) {
          bytes[i] = (byte) (spec.dtype() == Dtype.BOOL ? i & 1 : 37 * k + 11 * i + 5);
        }
        return bytes;
      }
    }
    throw new IllegalArgumentException(name);
  }

  static byte[] resource(String name) throws IOException {
    try (InputStream in = Tensors.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("no test resource " + name);
      }
      return in.readAllBytes();
    }
  }
}
