package org.sat2diffusers.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.SafetensorsException.Problem;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;

/** Opening valid files, and every kind of broken file rejected with its Problem, file and tensor. */
class SafetensorsFileTest {
  private static final String VALID = "{\"__metadata__\":{\"format\":\"pt\"},"
      + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
      + "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]}}";

  @TempDir Path dir;

  /** 8-byte length, {@code header} padded with spaces to a multiple of 8, then {@code dataBytes} bytes 0, 1, 2, ... */
  private Path file(String name, byte[] header, int dataBytes) throws IOException {
    int padded = (header.length + 7) / 8 * 8;
    ByteBuffer bytes = ByteBuffer.allocate(8 + padded + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    bytes.putLong(padded).put(header);
    while (bytes.position() < 8 + padded) {
      bytes.put((byte) ' ');
    }
    for (int i = 0; bytes.hasRemaining(); i++) {
      bytes.put((byte) i);
    }
    Path path = dir.resolve(name);
    Files.write(path, bytes.array());
    return path;
  }

  private Path file(String name, String header, int dataBytes) throws IOException {
    return file(name, header.getBytes(StandardCharsets.UTF_8), dataBytes);
  }

  private static SafetensorsFile open(Path path) throws IOException {
    try (RandomAccessInput input = RandomAccessInputs.open(path.toString())) {
      return SafetensorsFile.open(input);
    }
  }

  /** Opening {@code path} fails with {@code problem}, naming the file and (if not null) the tensor. */
  private static SafetensorsException rejected(Path path, Problem problem, String tensor, String detail) {
    SafetensorsException e = assertThrows(SafetensorsException.class, () -> open(path));
    assertEquals(problem, e.problem(), e.getMessage());
    assertEquals(path.toString(), e.file());
    assertEquals(tensor, e.tensor(), e.getMessage());
    assertTrue(e.getMessage().startsWith(path + ": "), e.getMessage());
    if (tensor != null) {
      assertTrue(e.getMessage().contains("tensor '" + tensor + "'"), e.getMessage());
    }
    assertTrue(e.getMessage().contains(detail), e.getMessage());
    return e;
  }

  @Test
  void opensAValidFileInHeaderOrder() throws IOException {
    Path path = file("valid.safetensors", VALID, 32);
    try (RandomAccessInput input = RandomAccessInputs.open(path.toString())) {
      SafetensorsFile st = SafetensorsFile.open(input);
      long start = 8 + (VALID.length() + 7) / 8 * 8; // the header is ASCII
      assertEquals(start, st.dataStart());
      assertEquals(List.of(new SafetensorsEntry("w", Dtype.F32, List.of(2L, 3L), start),
          new SafetensorsEntry("b", Dtype.F16, List.of(4L), start + 24)), st.entries());
      assertEquals(Map.of("format", "pt"), st.metadata());
      assertEquals(path.toString(), st.path());
      byte[] expected = new byte[8];
      for (int i = 0; i < 8; i++) {
        expected[i] = (byte) (24 + i);
      }
      assertArrayEquals(expected, st.readTensor("b"));
      assertEquals(new ByteRange("f", start + 24, 8), st.entry("b").range("f"));
      SafetensorsException missing = assertThrows(SafetensorsException.class, () -> st.entry("nope"));
      assertEquals(Problem.TENSOR_NOT_FOUND, missing.problem());
      assertTrue(missing.getMessage().contains("'nope'") && missing.getMessage().contains(path.toString()));
    }
  }

  @Test
  void readsTheReferenceLibrarysFileWithoutMetadataOrdering() throws IOException {
    Path path = dir.resolve("reference.safetensors");
    Files.write(path, Tensors.resource("reference.safetensors"));
    try (RandomAccessInput input = RandomAccessInputs.open(path.toString())) {
      SafetensorsFile st = SafetensorsFile.open(input);
      assertEquals(SafetensorsHeader.plan(Tensors.REFERENCE, Map.of()).entries(), st.entries());
      for (TensorSpec spec : Tensors.REFERENCE) {
        assertArrayEquals(Tensors.bytes(spec.name()), st.readTensor(spec.name()), spec.name());
      }
    }
    Path noMetadata = file("bare.safetensors", "{\"t\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1]}}", 1);
    assertEquals(Map.of(), open(noMetadata).metadata());
  }

  @Test
  void rejectsTruncatedFiles() throws IOException {
    byte[] whole = Files.readAllBytes(file("whole.safetensors", VALID, 32));
    Path cutInData = dir.resolve("cut-data.safetensors");
    Files.write(cutInData, Arrays.copyOf(whole, whole.length - 3));
    rejected(cutInData, Problem.METADATA_INCOMPLETE_BUFFER, "b", "truncated");
    Path cutInHeader = dir.resolve("cut-header.safetensors");
    Files.write(cutInHeader, Arrays.copyOf(whole, 100));
    rejected(cutInHeader, Problem.INVALID_HEADER_LENGTH, null, "runs past the end of the file");
    Path tiny = dir.resolve("tiny.safetensors");
    Files.write(tiny, Arrays.copyOf(whole, 5));
    rejected(tiny, Problem.HEADER_TOO_SMALL, null, "5 bytes");
  }

  @Test
  void rejectsTrailingBytes() throws IOException {
    rejected(file("trailing.safetensors", VALID, 40), Problem.METADATA_INCOMPLETE_BUFFER, "b", "8 bytes follow");
  }

  @Test
  void rejectsHeaderLengthsPastTheEndOrOverTheLimit() throws IOException {
    byte[] whole = Files.readAllBytes(file("ok.safetensors", VALID, 32));
    ByteBuffer.wrap(whole).order(ByteOrder.LITTLE_ENDIAN).putLong(0, whole.length);
    Path pastEnd = dir.resolve("past-end.safetensors");
    Files.write(pastEnd, whole);
    rejected(pastEnd, Problem.INVALID_HEADER_LENGTH, null, "header length " + whole.length);
    ByteBuffer.wrap(whole).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 100_000_001L);
    Path huge = dir.resolve("huge.safetensors");
    Files.write(huge, whole);
    rejected(huge, Problem.HEADER_TOO_LARGE, null, "100000001");
    ByteBuffer.wrap(whole).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
    Files.write(huge, whole);
    rejected(huge, Problem.HEADER_TOO_LARGE, null, "18446744073709551615");
  }

  @Test
  void rejectsOverlappingOffsets() throws IOException {
    rejected(file("overlap.safetensors", VALID.replace("[24,32]", "[20,28]"), 28), Problem.INVALID_OFFSET, "b", "overlap tensor 'w'");
  }

  @Test
  void rejectsGaps() throws IOException {
    rejected(file("gap.safetensors", VALID.replace("[24,32]", "[28,36]"), 36), Problem.INVALID_OFFSET, "b",
        "data bytes 24..28 unused after tensor 'w'");
    rejected(file("gap-first.safetensors", VALID.replace("[0,24]", "[4,28]").replace("[24,32]", "[28,36]"), 36),
        Problem.INVALID_OFFSET, "w", "data bytes 0..4 unused");
  }

  @Test
  void rejectsReversedOffsets() throws IOException {
    rejected(file("reversed.safetensors", VALID.replace("[24,32]", "[32,24]"), 32), Problem.INVALID_OFFSET, "b",
        "end before they begin");
  }

  @Test
  void rejectsAByteCountThatDisagreesWithShapeAndDtype() throws IOException {
    rejected(file("count.safetensors", VALID.replace("[2,3]", "[2,2]"), 32), Problem.TENSOR_INVALID_INFO, "w",
        "give 24 bytes but F32 [2, 2] needs 16");
    rejected(file("dtype-size.safetensors", VALID.replace("\"F16\"", "\"F32\""), 32), Problem.TENSOR_INVALID_INFO, "b",
        "needs 16");
  }

  @Test
  void rejectsUnknownDtypes() throws IOException {
    rejected(file("dtype.safetensors", VALID.replace("\"F16\"", "\"F8_E4M3\""), 32), Problem.UNKNOWN_DTYPE, "b",
        "F8_E4M3");
  }

  @Test
  void rejectsNonStringMetadata() throws IOException {
    rejected(file("meta.safetensors", VALID.replace("{\"format\":\"pt\"}", "{\"format\":\"pt\",\"epochs\":3}"), 32),
        Problem.INVALID_METADATA, null, "'epochs'");
    rejected(file("meta-list.safetensors", VALID.replace("{\"format\":\"pt\"}", "[\"pt\"]"), 32),
        Problem.INVALID_METADATA, null, "not an object");
  }

  @Test
  void rejectsHeadersThatAreNotUtf8Json() throws IOException {
    byte[] notUtf8 = VALID.replace("\"w\"", "\"w\u00ff\"").getBytes(StandardCharsets.ISO_8859_1);
    rejected(file("latin1.safetensors", notUtf8, 32), Problem.INVALID_HEADER, null, "UTF-8");
    rejected(file("syntax.safetensors", VALID.substring(0, VALID.length() - 1), 32), Problem.INVALID_HEADER_JSON, null,
        "not valid JSON");
    rejected(file("duplicate.safetensors", VALID.replace("\"b\":", "\"w\":"), 32), Problem.INVALID_HEADER_JSON, null,
        "Duplicate field 'w'");
    rejected(file("array.safetensors", "[1, 2]", 0), Problem.INVALID_HEADER_JSON, null, "not a JSON object");
    rejected(file("fields.safetensors", VALID.replace("\"data_offsets\":[24,32]", "\"offsets\":[24,32]"), 32),
        Problem.INVALID_HEADER_JSON, "b", "data_offsets");
    rejected(file("negative.safetensors", VALID.replace("[4]", "[-4]"), 32), Problem.INVALID_HEADER_JSON, "b",
        "shape holds -4");
  }

  @Test
  void rejectsSizesThatOverflow() throws IOException {
    rejected(file("overflow.safetensors", VALID.replace("[4]", "[4294967296,4294967296]"), 32),
        Problem.VALIDATION_OVERFLOW, "b", "overflow");
    rejected(file("huge-offset.safetensors", VALID.replace("[24,32]", "[24,99999999999999999999]"), 32),
        Problem.VALIDATION_OVERFLOW, "b", "over 64 bits");
  }
}
