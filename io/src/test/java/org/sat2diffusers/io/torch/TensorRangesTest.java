package org.sat2diffusers.io.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;

class TensorRangesTest {
  private static final String FILE = "ckpt.pt";

  private static TensorRecord tensor(Dtype dtype, List<Long> shape, List<Long> stride, long storageOffset) {
    return new TensorRecord("t", dtype, shape, stride, "0", storageOffset, 1000, 1 << 20, List.of());
  }

  @Test
  void aContiguousTensorIsOneRange() {
    assertEquals(List.of(new ByteRange(FILE, 1000 + 2 * 6, 2 * 4 * 3)),
        TensorRanges.ranges(FILE, tensor(Dtype.F16, List.of(4L, 1L, 3L), List.of(3L, 7L, 1L), 6)));
  }

  @Test
  void aColumnSliceIsOneRangePerRow() {
    // rows 0..2 of a [3, 8] F32 matrix, columns 2..5
    assertEquals(
        List.of(new ByteRange(FILE, 1008, 16), new ByteRange(FILE, 1040, 16), new ByteRange(FILE, 1072, 16)),
        TensorRanges.ranges(FILE, tensor(Dtype.F32, List.of(3L, 4L), List.of(8L, 1L), 2)));
  }

  @Test
  void aTransposedViewIsOneRangePerElement() {
    // [[a, b], [c, d]] transposed reads a, c, b, d
    assertEquals(
        List.of(new ByteRange(FILE, 1000, 2), new ByteRange(FILE, 1004, 2), new ByteRange(FILE, 1002, 2),
            new ByteRange(FILE, 1006, 2)),
        TensorRanges.ranges(FILE, tensor(Dtype.BF16, List.of(2L, 2L), List.of(1L, 2L), 0)));
  }

  @Test
  void adjacentBlocksAreCoalesced() {
    // [[x, x], [y, y]] broadcast from [x, y]: reads x, x, y, y; the second x and the first y touch
    assertEquals(
        List.of(new ByteRange(FILE, 1000, 1), new ByteRange(FILE, 1000, 2), new ByteRange(FILE, 1001, 1)),
        TensorRanges.ranges(FILE, tensor(Dtype.U8, List.of(2L, 2L), List.of(1L, 0L), 0)));
  }

  @Test
  void broadcastDimensionsRepeatTheirBytes() {
    assertEquals(List.of(new ByteRange(FILE, 1004, 4), new ByteRange(FILE, 1004, 4)),
        TensorRanges.ranges(FILE, tensor(Dtype.F32, List.of(2L, 1L), List.of(0L, 1L), 1)));
  }

  @Test
  void scalarsAndEmptyTensors() {
    assertEquals(List.of(new ByteRange(FILE, 1016, 8)),
        TensorRanges.ranges(FILE, tensor(Dtype.F64, List.of(), List.of(), 2)));
    assertEquals(List.of(), TensorRanges.ranges(FILE, tensor(Dtype.F16, List.of(0L, 4L), List.of(4L, 1L), 0)));
  }

  @Test
  void tooScatteredAViewIsAnError() {
    TensorRecord transposed = tensor(Dtype.F16, List.of(300L, 400L), List.of(1L, 300L), 0);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TensorRanges.ranges(FILE, transposed, 1000));
    assertEquals("ckpt.pt: tensor 't' (shape [300, 400], stride [1, 300]) is a view scattered over 120000 blocks"
        + " of 2 bytes, more than the limit of 1000 byte ranges", e.getMessage());
  }
}
