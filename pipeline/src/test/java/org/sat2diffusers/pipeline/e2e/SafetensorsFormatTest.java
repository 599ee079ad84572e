package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The independent format check catches what it is there to catch. */
class SafetensorsFormatTest {
  private static final String TWO_TENSORS =
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]}}";

  /** Header length, header padded with spaces to {@code padTo}, then {@code dataBytes} bytes of data. */
  private static byte[] file(String header, int padTo, int dataBytes) {
    int padded = header.length() + (padTo - (8 + header.length()) % padTo) % padTo;
    ByteBuffer b = ByteBuffer.allocate(8 + padded + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded).put(header.getBytes(StandardCharsets.US_ASCII));
    while (b.position() < 8 + padded) {
      b.put((byte) ' ');
    }
    return b.array();
  }

  @Test
  void aWellFormedFileHasNoProblems() {
    assertEquals(List.of(), SafetensorsFormat.problems(file(TWO_TENSORS, 8, 12)));
  }

  @Test
  void dataOffTheEightByteBoundaryIsAProblem() {
    List<String> problems = SafetensorsFormat.problems(file(TWO_TENSORS, 1, 12));
    assertTrue(problems.stream().anyMatch(p -> p.contains("8-byte boundary")), problems.toString());
  }

  @Test
  void gapsOverlapsAndTrailingBytesAreProblems() {
    String gap = TWO_TENSORS.replace("[8,12]", "[10,14]");
    String overlap = TWO_TENSORS.replace("[8,12]", "[6,10]");
    assertTrue(SafetensorsFormat.problems(file(gap, 8, 14)).stream().anyMatch(p -> p.startsWith("b: begins at data byte 10")));
    assertTrue(SafetensorsFormat.problems(file(overlap, 8, 10)).stream().anyMatch(p -> p.startsWith("b: begins at data byte 6")));
    assertEquals(List.of("the tensors cover 12 data bytes but the data section has 16"),
        SafetensorsFormat.problems(file(TWO_TENSORS, 8, 16)));
  }

  @Test
  void offsetsThatDisagreeWithDtypeAndShapeAreAProblem() {
    String wrong = TWO_TENSORS.replace("\"shape\":[2],\"data_offsets\":[0,8]", "\"shape\":[3],\"data_offsets\":[0,8]");
    assertEquals(List.of("a: data_offsets hold 8 bytes, F32 [3] needs 12"), SafetensorsFormat.problems(file(wrong, 8, 12)));
  }
}
