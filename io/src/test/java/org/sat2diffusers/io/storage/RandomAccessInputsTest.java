package org.sat2diffusers.io.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RandomAccessInputsTest {
  @TempDir Path dir;

  private Path file(int size) throws IOException {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) (i * 31 + 7);
    }
    return Files.write(dir.resolve("data.bin"), bytes);
  }

  @Test
  void readsAtAnyPositionByPathAndByFileUri() throws IOException {
    Path path = file(1000);
    byte[] all = Files.readAllBytes(path);
    for (String spec : List.of(path.toString(), path.toUri().toString())) {
      try (RandomAccessInput in = RandomAccessInputs.open(spec)) {
        assertEquals(spec, in.path());
        assertEquals(1000, in.size());
        byte[] buffer = new byte[110];
        in.readFully(900, buffer, 5, 100);
        in.readFully(3, buffer, 0, 5); // backwards seek
        assertArrayEquals(Arrays.copyOfRange(all, 3, 8), Arrays.copyOfRange(buffer, 0, 5));
        assertArrayEquals(Arrays.copyOfRange(all, 900, 1000), Arrays.copyOfRange(buffer, 5, 105));
      }
    }
  }

  @Test
  void readsIntoDirectAndHeapBuffersAlike() throws IOException {
    Path path = file(1000);
    byte[] all = Files.readAllBytes(path);
    try (RandomAccessInput local = new CountingRandomAccessInput(RandomAccessInputs.open(path.toString()))) {
      for (ByteBuffer buffer : List.of(ByteBuffer.allocateDirect(200), ByteBuffer.allocate(200))) {
        buffer.position(10).limit(110);
        local.readFully(850, buffer);
        assertEquals(110, buffer.position(), "the position ends at the limit");
        byte[] got = new byte[100];
        buffer.flip().position(10);
        buffer.get(got);
        assertArrayEquals(Arrays.copyOfRange(all, 850, 950), got);
        EOFException e = assertThrows(EOFException.class, () -> local.readFully(950, buffer.clear()));
        assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
      }
      assertEquals(2 * (100 + 200), ((CountingRandomAccessInput) local).bytesRead(), "every read asked for is counted");
    }
  }

  @Test
  void transfersALocalRangeIntoAFileChannelAtItsPosition() throws IOException {
    byte[] bytes = new byte[1000];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 7);
    }
    Path source = dir.resolve("source.bin");
    Files.write(source, bytes);
    Path target = dir.resolve("target.bin");
    try (RandomAccessInput in = new CountingRandomAccessInput(RandomAccessInputs.open(source.toString()));
        FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      out.position(5);
      assertTrue(in.transferTo(100, 300, out));
      assertEquals(300, ((CountingRandomAccessInput) in).bytesRead());
      EOFException e = assertThrows(EOFException.class, () -> in.transferTo(900, 200, out));
      assertTrue(e.getMessage().contains(source.toString()), e.getMessage());
    }
    byte[] written = Files.readAllBytes(target);
    assertEquals(305, written.length);
    assertArrayEquals(Arrays.copyOfRange(bytes, 100, 400), Arrays.copyOfRange(written, 5, 305));
  }

  @Test
  void readingPastTheEndNamesTheFile() throws IOException {
    Path path = file(10);
    try (RandomAccessInput in = RandomAccessInputs.open(path.toString())) {
      EOFException e = assertThrows(EOFException.class, () -> in.readFully(8, new byte[4], 0, 4));
      assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
    }
  }

  @Test
  void countsBytesAndCalls() throws IOException {
    Path path = file(100);
    try (CountingRandomAccessInput in = new CountingRandomAccessInput(RandomAccessInputs.open(path.toString()))) {
      in.readFully(0, new byte[10], 0, 10);
      in.readFully(50, new byte[30], 2, 25);
      assertEquals(35, in.bytesRead());
      assertEquals(2, in.readCalls());
    }
  }

  @Test
  void copiesRangesInOrderThroughASmallBuffer() throws IOException {
    Path path = file(1000);
    byte[] all = Files.readAllBytes(path);
    String name = path.toString();
    List<ByteRange> ranges =
        List.of(new ByteRange(name, 500, 17), new ByteRange(name, 3, 0), new ByteRange(name, 10, 300));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (CountingRandomAccessInput in = new CountingRandomAccessInput(RandomAccessInputs.open(name))) {
      assertEquals(317, new RangeCopier(64).copy(in, ranges, out));
      assertEquals(317, in.bytesRead());
      assertEquals(1 + 5, in.readCalls()); // 17 bytes in one read, 300 in ceil(300 / 64)
    }
    byte[] expected = new byte[317];
    System.arraycopy(all, 500, expected, 0, 17);
    System.arraycopy(all, 10, expected, 17, 300);
    assertArrayEquals(expected, out.toByteArray());
  }

  @Test
  void refusesRangesOfAnotherFile() throws IOException {
    Path path = file(10);
    try (RandomAccessInput in = RandomAccessInputs.open(path.toString())) {
      List<ByteRange> ranges = List.of(new ByteRange("other.pt", 0, 1));
      IllegalArgumentException e = assertThrows(
          IllegalArgumentException.class, () -> new RangeCopier(8).copy(in, ranges, new ByteArrayOutputStream()));
      assertTrue(e.getMessage().contains("other.pt"), e.getMessage());
    }
  }
}
