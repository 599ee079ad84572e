package org.sat2diffusers.io.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MappedRegionsTest {
  @TempDir Path dir;

  @Test
  void aRegionLargerThanAWindowArrivesWholeInOrderInWindowsOfAtMost8MiB() throws IOException {
    byte[] bytes = new byte[(20 << 20) + 3];
    new Random(17).nextBytes(bytes);
    Path file = dir.resolve("region.bin");
    Files.write(file, bytes);
    int from = 5;
    int length = bytes.length - from - 1;
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    List<Integer> windows = new ArrayList<>();
    assertTrue(MappedRegions.available(), "sun.misc.Unsafe.invokeCleaner is on every Java 17");
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      MappedRegions.read(channel, from, length, window -> {
        windows.add(window.remaining());
        byte[] copy = new byte[window.remaining()];
        window.get(copy);
        seen.writeBytes(copy);
      });
    }
    assertEquals(List.of(8 << 20, 8 << 20, length - (16 << 20)), windows);
    assertArrayEquals(Arrays.copyOfRange(bytes, from, from + length), seen.toByteArray());
  }

  @Test
  void anEmptyRegionCallsNothing() throws IOException {
    Path file = dir.resolve("empty-region.bin");
    Files.write(file, new byte[] {1, 2, 3});
    List<ByteBuffer> windows = new ArrayList<>();
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      MappedRegions.read(channel, 2, 0, windows::add);
    }
    assertEquals(List.of(), windows);
  }
}
