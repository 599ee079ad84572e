package org.sat2diffusers.io.dtype;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class ShapesTest {
  @Test
  void countsElementsAndBytes() {
    assertEquals(1, Shapes.numel(List.of()));
    assertEquals(24, Shapes.numel(List.of(2L, 3L, 4L)));
    assertEquals(0, Shapes.numel(List.of(0L, 5L)));
    assertEquals(48, Shapes.byteLength(Dtype.BF16, List.of(2L, 3L, 4L)));
    assertEquals(8, Shapes.byteLength(Dtype.F64, List.of()));
  }

  @Test
  void overflowIsAnErrorNotAWrappedCount() {
    assertThrows(ArithmeticException.class, () -> Shapes.numel(List.of(1L << 32, 1L << 32)));
    assertThrows(ArithmeticException.class, () -> Shapes.byteLength(Dtype.F32, List.of(1L << 62)));
  }
}
