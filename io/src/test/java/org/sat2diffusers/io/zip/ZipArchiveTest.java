package org.sat2diffusers.io.zip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.CountingRandomAccessInput;
import org.sat2diffusers.io.storage.Fixtures;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;

class ZipArchiveTest {
  @TempDir Path dir;

  static Stream<Path> archives() throws IOException {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(Fixtures.testdata().resolve("sat"))) {
      walk.filter(p -> p.toString().endsWith(".pt")).sorted().forEach(files::add);
    }
    files.add(Fixtures.resource("org/sat2diffusers/io/zip/zip64.pt"));
    return files.stream();
  }

  /** The JDK's own zip reader is the reference: same entries in the same order, same bytes. */
  @ParameterizedTest
  @MethodSource("archives")
  void entriesAndDataMatchTheJdkZipReader(Path file) throws IOException {
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString());
        ZipFile reference = new ZipFile(file.toFile())) {
      ZipArchive zip = ZipArchive.read(in);
      List<String> expectedNames = Collections.list(reference.entries()).stream().map(ZipEntry::getName).toList();
      assertEquals(expectedNames, zip.entries().stream().map(ZipEntryInfo::name).toList());
      assertEquals(expectedNames.get(0).substring(0, expectedNames.get(0).indexOf('/')), zip.topFolder());
      for (ZipEntryInfo entry : zip.entries()) {
        ByteRange range = zip.dataRange(entry);
        byte[] actual = new byte[(int) range.length()];
        in.readFully(range.offset(), actual, 0, actual.length);
        assertArrayEquals(reference.getInputStream(reference.getEntry(entry.name())).readAllBytes(), actual, entry.name());
      }
    }
  }

  @Test
  void zip64RecordsAndExtraFieldsAreUsed() throws IOException {
    Path file = Fixtures.resource("org/sat2diffusers/io/zip/zip64.pt");
    byte[] bytes = Files.readAllBytes(file);
    ByteBuffer end = ByteBuffer.wrap(bytes, bytes.length - 22, 22).slice().order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0xFFFFFFFF, end.getInt(16), "the plain end record only points to the ZIP64 one");
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      ZipArchive zip = ZipArchive.read(in);
      ZipEntryInfo pickle = zip.require("archive/data.pkl");
      assertTrue(pickle.compressedSize() > 0 && pickle.localHeaderOffset() == 0, pickle.toString());
      for (ZipEntryInfo entry : zip.entries()) {
        assertEquals(0, zip.dataRange(entry).offset() % 64, entry.name() + " is 64-byte aligned");
      }
    }
  }

  @Test
  void readingTheDirectoryReadsNoEntryData() throws IOException {
    Path file = Fixtures.testdata().resolve("sat/cogvideox-2b-sft/1000/mp_rank_00_model_states.pt");
    byte[] bytes = Files.readAllBytes(file);
    long cdBytes = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt(bytes.length - 22 + 12);
    try (CountingRandomAccessInput in = new CountingRandomAccessInput(RandomAccessInputs.open(file.toString()))) {
      ZipArchive zip = ZipArchive.read(in);
      assertEquals(320, zip.entries().size());
      // the end record, the ZIP64 locator and end record (torch always writes them), the central directory
      assertEquals(4, in.readCalls());
      assertEquals(22 + 20 + 56 + cdBytes, in.bytesRead());
    }
  }

  @Test
  void compressedEntriesAreRefusedByName() throws IOException {
    assertRangeError("compressed_entry.pt", "archive/data/0", "compressed (method 8)");
  }

  @Test
  void dotDotEntriesAreRefused() {
    assertReadError("dotdot_entry.pt", "archive/../evil", "'..' path segment");
  }

  @Test
  void duplicateEntriesAreRefused() {
    assertReadError("duplicate_entry.pt", "archive/data/0", "appears twice");
  }

  @Test
  void entriesOutsideTheTopFolderAreRefused() {
    assertReadError("outside_top_folder.pt", "other/file", "outside the archive's top folder 'archive/'");
  }

  @Test
  void aTruncatedFileIsNotAZip() throws IOException {
    Path original = Fixtures.testdata().resolve("sat/cogvideox-5b-lora/200/mp_rank_00_model_states.pt");
    byte[] bytes = Files.readAllBytes(original);
    Path truncated = Files.write(dir.resolve("truncated.pt"), Arrays.copyOf(bytes, bytes.length - 10));
    ZipFormatException e = assertThrows(ZipFormatException.class, () -> read(truncated));
    assertTrue(e.getMessage().startsWith(truncated + ": not a zip archive"), e.getMessage());
  }

  @Test
  void aCentralDirectoryOutsideTheFileIsRefused() throws IOException {
    Path original = Fixtures.testdata().resolve("sat/cogvideox-5b-lora/200/mp_rank_00_model_states.pt");
    byte[] bytes = Files.readAllBytes(original);
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long zip64EndRecord = buffer.getLong(bytes.length - 22 - 20 + 8);
    buffer.putLong((int) zip64EndRecord + 48, bytes.length); // the central directory's offset
    buffer.putInt(bytes.length - 22 + 16, -1); // the classic record defers to ZIP64 (else the two disagree first)
    Path patched = Files.write(dir.resolve("patched.pt"), bytes);
    ZipFormatException e = assertThrows(ZipFormatException.class, () -> read(patched));
    assertTrue(e.getMessage().contains(patched + ": central directory"), e.getMessage());
    assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
  }

  @Test
  void endRecordsThatDisagreeAreRefused() throws IOException {
    Path original = Fixtures.testdata().resolve("sat/cogvideox-5b-lora/200/mp_rank_00_model_states.pt");
    byte[] bytes = Files.readAllBytes(original);
    bytes[bytes.length - 22 + 10] ^= 0x07; // the classic record's entry count; torch's ZIP64 record keeps the true one
    Path patched = Files.write(dir.resolve("patched.pt"), bytes);
    ZipFormatException e = assertThrows(ZipFormatException.class, () -> read(patched));
    assertTrue(e.getMessage().startsWith(patched + ": the end record's entry count"), e.getMessage());
  }

  @Test
  void aCorruptDataPklIsRefusedByItsCrc() throws IOException {
    Path bad = Fixtures.testdata().resolve("bad/flip-data-pkl-1.pt");
    try (RandomAccessInput in = RandomAccessInputs.open(bad.toString())) {
      ZipArchive zip = ZipArchive.read(in);
      ZipFormatException e = assertThrows(ZipFormatException.class,
          () -> zip.readEntry(zip.require("archive/data.pkl"), 1 << 20));
      assertTrue(e.getMessage().contains("entry 'archive/data.pkl' is corrupt: its CRC-32 is"), e.getMessage());
    }
  }

  @Test
  void overlappingEntriesAreRefused() throws IOException {
    Path bad = Fixtures.testdata().resolve("bad/zip-overlapping-entries.pt");
    ZipFormatException e = assertThrows(ZipFormatException.class, () -> read(bad));
    assertTrue(e.getMessage().contains("' overlap"), e.getMessage());
  }

  private static ZipArchive read(Path file) throws IOException {
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      return ZipArchive.read(in);
    }
  }

  private static void assertReadError(String resource, String entry, String problem) {
    Path file = Fixtures.resource("org/sat2diffusers/io/torch/" + resource);
    ZipFormatException e = assertThrows(ZipFormatException.class, () -> read(file));
    assertTrue(e.getMessage().startsWith(file + ": entry '" + entry + "'"), e.getMessage());
    assertTrue(e.getMessage().contains(problem), e.getMessage());
  }

  private static void assertRangeError(String resource, String entry, String problem) throws IOException {
    Path file = Fixtures.resource("org/sat2diffusers/io/torch/" + resource);
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      ZipArchive zip = ZipArchive.read(in);
      ZipFormatException e = assertThrows(ZipFormatException.class, () -> zip.dataRange(zip.require(entry)));
      assertTrue(e.getMessage().startsWith(file + ": entry '" + entry + "'"), e.getMessage());
      assertTrue(e.getMessage().contains(problem), e.getMessage());
    }
  }
}
