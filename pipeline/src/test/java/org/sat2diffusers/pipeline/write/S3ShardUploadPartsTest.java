package org.sat2diffusers.pipeline.write;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.SafetensorsHeader;
import org.sat2diffusers.io.safetensors.TensorSpec;
import org.sat2diffusers.io.storage.S3MultipartUpload;

/** How a shard is cut into S3 parts: whole tensors, every part but the last at least the part size, none under 5 MiB but the only one. */
class S3ShardUploadPartsTest {
  private static final long MIB = 1 << 20;

  private static SafetensorsHeader header(long... tensorBytes) {
    List<TensorSpec> specs = new ArrayList<>();
    for (int i = 0; i < tensorBytes.length; i++) {
      specs.add(new TensorSpec("t" + i, Dtype.U8, List.of(tensorBytes[i])));
    }
    return SafetensorsHeader.plan(specs, Map.of());
  }

  private static void assertWellCut(SafetensorsHeader header, List<S3ShardUpload.Part> parts, long partBytes) {
    assertEquals(0, parts.get(0).start());
    assertEquals(0, parts.get(0).first());
    assertEquals(header.fileSize(), parts.get(parts.size() - 1).end());
    assertEquals(header.entries().size(), parts.get(parts.size() - 1).last());
    for (int p = 0; p < parts.size(); p++) {
      S3ShardUpload.Part part = parts.get(p);
      if (p > 0) {
        assertEquals(parts.get(p - 1).end(), part.start(), "contiguous");
        assertEquals(parts.get(p - 1).last(), part.first(), "whole tensors");
        assertEquals(header.entries().get(part.first()).offset(), part.start(), "starts at a tensor");
      }
      if (p < parts.size() - 1) {
        assertTrue(part.end() - part.start() >= partBytes, "part " + p + " too small: " + part);
      } else if (parts.size() > 1) {
        assertTrue(part.end() - part.start() >= S3MultipartUpload.MIN_PART_BYTES, "last part under 5 MiB: " + part);
      }
    }
  }

  @Test
  void aSmallFileIsOnePart() {
    SafetensorsHeader header = header(10, 3 * MIB, 0);
    List<S3ShardUpload.Part> parts = S3ShardUpload.parts(header, 16 * MIB);
    assertEquals(List.of(new S3ShardUpload.Part(0, 3, 0, header.fileSize())), parts);
  }

  @Test
  void aShortTailJoinsThePartBefore() {
    SafetensorsHeader header = header(10 * MIB, 7 * MIB, 2 * MIB, 0);
    List<S3ShardUpload.Part> parts = S3ShardUpload.parts(header, 16 * MIB);
    assertEquals(1, parts.size(), "17 MiB then 2 MiB: one part of all");
    assertWellCut(header, parts, 16 * MIB);
  }

  @Test
  void aLongTailIsAPartOfItsOwn() {
    SafetensorsHeader header = header(10 * MIB, 7 * MIB, 2 * MIB, 4 * MIB, 0, 1);
    List<S3ShardUpload.Part> parts = S3ShardUpload.parts(header, 16 * MIB);
    assertEquals(2, parts.size());
    assertEquals(2, parts.get(1).first());
    assertWellCut(header, parts, 16 * MIB);
  }

  @Test
  void manyTensorsOfAllSizes() {
    long[] sizes = new long[500];
    Random random = new Random(5);
    for (int i = 0; i < sizes.length; i++) {
      sizes[i] = random.nextInt(4) == 0 ? random.nextInt(40) * MIB : random.nextInt(100_000);
    }
    SafetensorsHeader header = header(sizes);
    List<S3ShardUpload.Part> parts = S3ShardUpload.parts(header, 16 * MIB);
    assertTrue(parts.size() > 10, "parts: " + parts.size());
    assertWellCut(header, parts, 16 * MIB);
  }
}
