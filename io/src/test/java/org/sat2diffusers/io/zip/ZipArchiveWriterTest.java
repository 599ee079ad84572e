package org.sat2diffusers.io.zip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;

class ZipArchiveWriterTest {
  @TempDir Path dir;

  @Test
  void entriesOfAnySizeReadBackAlignedThroughBothReaders() throws IOException {
    Path file = dir.resolve("a.zip");
    byte[] small = "hello".getBytes(StandardCharsets.US_ASCII);
    byte[] larger = new byte[1000];
    for (int i = 0; i < larger.length; i++) {
      larger[i] = (byte) (i * 7);
    }
    long size;
    try (OutputStream out = Files.newOutputStream(file)) {
      ZipArchiveWriter zip = new ZipArchiveWriter(file.toString(), out);
      for (Object[] entry : new Object[][] {{"a/small", small}, {"a/empty", new byte[0]}, {"a/larger", larger}}) {
        byte[] bytes = (byte[]) entry[1];
        try (OutputStream data = zip.entry((String) entry[0], bytes.length)) {
          data.write(bytes);
        }
      }
      size = zip.finish();
    }
    assertEquals(Files.size(file), size);
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      ZipArchive zip = ZipArchive.read(in);
      assertEquals("a", zip.topFolder());
      for (String name : new String[] {"a/small", "a/empty", "a/larger"}) {
        ByteRange range = zip.dataRange(zip.require(name));
        assertEquals(0, range.offset() % ZipArchiveWriter.ALIGNMENT, name);
      }
      assertArrayEquals(larger, zip.readEntry(zip.require("a/larger"), 4096));
      assertArrayEquals(new byte[0], zip.readEntry(zip.require("a/empty"), 4096));
    }
    try (ZipFile zip = new ZipFile(file.toFile()); InputStream in = zip.getInputStream(zip.getEntry("a/small"))) {
      assertArrayEquals(small, in.readAllBytes());
      assertEquals(3, zip.size());
    }
  }

  @Test
  void anEntryMustGetExactlyItsSize() throws IOException {
    ZipArchiveWriter zip = new ZipArchiveWriter("mem.zip", new ByteArrayOutputStream());
    OutputStream tooShort = zip.entry("a/x", 4);
    tooShort.write(new byte[3]);
    IOException shortError = assertThrows(IOException.class, tooShort::close);
    assertTrue(shortError.getMessage().contains("mem.zip: entry 'a/x' takes 4 bytes; got only 3"), shortError.getMessage());

    ZipArchiveWriter other = new ZipArchiveWriter("mem.zip", new ByteArrayOutputStream());
    OutputStream tooLong = other.entry("a/y", 2);
    IOException longError = assertThrows(IOException.class, () -> tooLong.write(new byte[3]));
    assertTrue(longError.getMessage().contains("entry 'a/y' takes 2 bytes"), longError.getMessage());
  }

  @Test
  void entriesComeOneAtATimeWithDistinctNames() throws IOException {
    ZipArchiveWriter zip = new ZipArchiveWriter("mem.zip", new ByteArrayOutputStream());
    OutputStream first = zip.entry("a/x", 0);
    assertThrows(IllegalStateException.class, () -> zip.entry("a/y", 0));
    assertThrows(IllegalStateException.class, zip::finish);
    first.close();
    assertThrows(IllegalArgumentException.class, () -> zip.entry("a/x", 0));
  }
}
