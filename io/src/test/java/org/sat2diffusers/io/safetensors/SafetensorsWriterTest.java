package org.sat2diffusers.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.SafetensorsWriter.Written;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.RangeSink;

class SafetensorsWriterTest {
  private static final Map<String, String> EXTRA = new LinkedHashMap<>(Map.of("source", "sat iteration 1000"));

  @TempDir Path dir;

  private static SafetensorsHeader referenceHeader(Map<String, String> extra) {
    return SafetensorsHeader.plan(Tensors.REFERENCE, extra);
  }

  private static void writeAll(SafetensorsWriter writer, List<SafetensorsEntry> order) throws IOException {
    for (SafetensorsEntry e : order) {
      try (OutputStream out = writer.tensor(e.name())) {
        byte[] bytes = Tensors.bytes(e.name());
        out.write(bytes, 0, bytes.length / 2); // in two pieces, as a streaming copy would
        out.write(bytes, bytes.length / 2, bytes.length - bytes.length / 2);
      }
    }
  }

  @Test
  void sequentialOutputIsByteIdenticalToTheReferenceLibrary() throws IOException {
    SafetensorsHeader header = referenceHeader(Map.of());
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    SafetensorsWriter writer = SafetensorsWriter.sequential("mem.safetensors", header, Channels.newChannel(file), null);
    writeAll(writer, header.entries());
    Written written = writer.finish();
    byte[] reference = Tensors.resource("reference.safetensors");
    assertEquals(new String(reference, 8, (int) header.dataStart() - 8, StandardCharsets.UTF_8),
        new String(file.toByteArray(), 8, (int) header.dataStart() - 8, StandardCharsets.UTF_8), "header JSON");
    assertArrayEquals(reference, file.toByteArray());
    assertEquals(reference.length, written.fileSize());
    assertEquals(reference.length, header.fileSize());
  }

  @Test
  void positionalWritesInAnyOrderGiveTheSameFile() throws IOException {
    SafetensorsHeader header = referenceHeader(Map.of());
    List<SafetensorsEntry> reversed = new ArrayList<>(header.entries());
    Collections.reverse(reversed);
    Path path = dir.resolve("reversed.safetensors");
    Files.write(path, new byte[5000]); // longer than the result: finish() must truncate
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.WRITE)) {
      SafetensorsWriter writer = SafetensorsWriter.positional(path.toString(), header, channel, null);
      writeAll(writer, reversed);
      Written written = writer.finish();
      assertTrue(written.tensorDigests().isEmpty());
      assertTrue(written.headerDigest().isEmpty());
    }
    assertArrayEquals(Tensors.resource("reference.safetensors"), Files.readAllBytes(path));
  }

  @Test
  void positionalDigestsWithTensorsFromSeveralThreadsInAnyOrder() throws Exception {
    SafetensorsHeader header = referenceHeader(EXTRA);
    Path path = dir.resolve("digested.safetensors");
    List<SafetensorsEntry> reversed = new ArrayList<>(header.entries());
    Collections.reverse(reversed);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    Written written;
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      SafetensorsWriter writer = SafetensorsWriter.positional(path.toString(), header, channel, Digest.CRC32C);
      List<Future<?>> jobs = new ArrayList<>();
      for (SafetensorsEntry e : reversed) {
        jobs.add(pool.submit(() -> {
          writeAll(writer, List.of(e));
          return null;
        }));
      }
      for (Future<?> job : jobs) {
        job.get();
      }
      written = writer.finish();
    } finally {
      pool.shutdown();
    }
    byte[] file = Files.readAllBytes(path);
    assertEquals(crc32c(Arrays.copyOf(file, (int) header.dataStart())), written.headerDigest().orElseThrow());
    for (SafetensorsEntry e : header.entries()) {
      assertEquals(crc32c(Tensors.bytes(e.name())), written.tensorDigests().get(e.name()), e.name());
    }
    assertEquals(header.entries().stream().map(SafetensorsEntry::name).toList(),
        List.copyOf(written.tensorDigests().keySet()), "digests in layout order");
  }

  @Test
  void rangesOfALocalInputGoZeroCopyIntoALocalFile() throws IOException {
    SafetensorsHeader header = referenceHeader(Map.of());
    // the source: every tensor's bytes after a 3-byte gap, so offsets differ between the files
    Path source = dir.resolve("source.bin");
    ByteArrayOutputStream sourceBytes = new ByteArrayOutputStream();
    Map<String, Long> offsets = new LinkedHashMap<>();
    for (SafetensorsEntry e : header.entries()) {
      sourceBytes.write(new byte[] {7, 7, 7});
      offsets.put(e.name(), (long) sourceBytes.size());
      sourceBytes.write(Tensors.bytes(e.name()));
    }
    Files.write(source, sourceBytes.toByteArray());
    Path path = dir.resolve("transferred.safetensors");
    Written written;
    try (RandomAccessInput in = RandomAccessInputs.open(source.toString());
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
            StandardOpenOption.WRITE)) {
      SafetensorsWriter writer = SafetensorsWriter.positional(path, header, channel, Digest.SHA256);
      for (SafetensorsEntry e : header.entries()) {
        try (OutputStream out = writer.tensor(e.name())) {
          assertTrue(((RangeSink) out).transferFrom(in, offsets.get(e.name()), e.byteLength()), e.name());
        }
      }
      written = writer.finish();
    }
    assertArrayEquals(Tensors.resource("reference.safetensors"), Files.readAllBytes(path));
    assertEquals(sha256(Arrays.copyOf(Tensors.resource("reference.safetensors"), (int) header.dataStart())),
        written.headerDigest().orElseThrow());
    for (SafetensorsEntry e : header.entries()) {
      assertEquals(sha256(Tensors.bytes(e.name())), written.tensorDigests().get(e.name()), e.name());
    }
  }

  @Test
  void withoutTheFilesPathThereIsNoZeroCopy() throws IOException {
    SafetensorsHeader header = referenceHeader(Map.of());
    Path source = dir.resolve("source.bin");
    Files.write(source, new byte[64]);
    Path path = dir.resolve("plain.safetensors");
    try (RandomAccessInput in = RandomAccessInputs.open(source.toString());
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      SafetensorsWriter writer = SafetensorsWriter.positional(path.toString(), header, channel, null);
      SafetensorsEntry first = header.entries().get(0);
      try (OutputStream out = writer.tensor(first.name())) {
        assertTrue(!((RangeSink) out).transferFrom(in, 0, Math.min(8, first.byteLength())));
        out.write(Tensors.bytes(first.name()));
      }
    }
  }

  @Test
  void positionalWritesFromSeveralThreadsAtOnce() throws Exception {
    SafetensorsHeader header = referenceHeader(Map.of());
    Path path = dir.resolve("parallel.safetensors");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      SafetensorsWriter writer = SafetensorsWriter.positional(path.toString(), header, channel, null);
      List<Future<?>> jobs = new ArrayList<>();
      for (SafetensorsEntry e : header.entries()) {
        jobs.add(pool.submit(() -> {
          try (OutputStream out = writer.tensor(e.name())) {
            for (byte b : Tensors.bytes(e.name())) {
              out.write(b); // byte by byte, so the threads interleave
            }
          }
          return null;
        }));
      }
      for (Future<?> job : jobs) {
        job.get();
      }
      writer.finish();
    } finally {
      pool.shutdown();
    }
    assertArrayEquals(Tensors.resource("reference.safetensors"), Files.readAllBytes(path));
  }

  @Test
  void roundTripsThroughTheReaderWithMetadataAndDigests() throws IOException {
    SafetensorsHeader header = referenceHeader(EXTRA);
    Path path = dir.resolve("model.safetensors");
    Written written;
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      SafetensorsWriter writer = SafetensorsWriter.sequential(path.toString(), header, channel, Digest.SHA256);
      writeAll(writer, header.entries());
      written = writer.finish();
    }
    byte[] file = Files.readAllBytes(path);
    assertEquals(sha256(Arrays.copyOf(file, (int) header.dataStart())), written.headerDigest().orElseThrow());
    assertEquals(file.length, written.fileSize());

    try (RandomAccessInput input = RandomAccessInputs.open(path.toString())) {
      SafetensorsFile read = SafetensorsFile.open(input);
      assertEquals(header.entries(), read.entries());
      assertEquals(Map.of("format", "pt", "source", "sat iteration 1000"), read.metadata());
      assertEquals(List.of("format", "source"), List.copyOf(read.metadata().keySet()));
      assertEquals(header.dataStart(), read.dataStart());
      for (TensorSpec spec : Tensors.REFERENCE) {
        SafetensorsEntry entry = read.entry(spec.name());
        assertEquals(spec.dtype(), entry.dtype(), spec.name());
        assertEquals(spec.shape(), entry.shape(), spec.name());
        assertArrayEquals(Tensors.bytes(spec.name()), read.readTensor(spec.name()), spec.name());
        try (InputStream in = read.openTensor(spec.name())) {
          assertArrayEquals(Tensors.bytes(spec.name()), in.readAllBytes(), spec.name() + " streamed");
        }
        assertEquals(sha256(Tensors.bytes(spec.name())), written.tensorDigests().get(spec.name()));
      }
    }
  }

  /** The checks checks/conformance.py makes, written out independently of SafetensorsFile. */
  @Test
  void writtenFilePassesTheFormatChecksOfConformancePy() throws IOException {
    SafetensorsHeader header = referenceHeader(EXTRA);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    SafetensorsWriter writer = SafetensorsWriter.sequential("mem", header, Channels.newChannel(out), null);
    writeAll(writer, header.entries());
    writer.finish();
    byte[] file = out.toByteArray();

    long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertTrue(n <= file.length - 8, "header length within the file");
    assertEquals(0, (8 + n) % 8, "data starts on an 8-byte boundary");
    JsonNode json = new ObjectMapper().readTree(new String(file, 8, (int) n, StandardCharsets.UTF_8));
    JsonNode metadata = json.get("__metadata__");
    metadata.fields().forEachRemaining(m -> assertTrue(m.getValue().isTextual(), m.getKey()));
    assertEquals("pt", metadata.get("format").textValue());
    List<long[]> spans = new ArrayList<>();
    json.fields().forEachRemaining(field -> {
      if (field.getKey().equals("__metadata__")) {
        return;
      }
      JsonNode info = field.getValue();
      long count = 1;
      for (JsonNode d : info.get("shape")) {
        count *= d.asLong();
      }
      long begin = info.get("data_offsets").get(0).asLong();
      long end = info.get("data_offsets").get(1).asLong();
      assertEquals(count * Dtype.fromSafetensorsName(info.get("dtype").textValue()).size(), end - begin, field.getKey());
      byte[] data = Arrays.copyOfRange(file, (int) (8 + n + begin), (int) (8 + n + end));
      assertArrayEquals(Tensors.bytes(field.getKey()), data, field.getKey());
      spans.add(new long[] {begin, end});
    });
    assertEquals(Tensors.REFERENCE.size(), spans.size());
    spans.sort((a, b) -> Long.compare(a[0], b[0]) != 0 ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    long position = 0;
    for (long[] span : spans) {
      assertEquals(position, span[0], "no gap or overlap");
      position = span[1];
    }
    assertEquals(file.length, 8 + n + position, "data section ends at the end of the file");
  }

  @Test
  void dataStartIsAlignedForAnyHeaderLength() {
    for (int length = 1; length <= 16; length++) {
      SafetensorsHeader header = SafetensorsHeader.plan(List.of(Tensors.spec("x".repeat(length), Dtype.F32, 1)), Map.of());
      assertEquals(0, header.dataStart() % 8, "name length " + length);
      assertEquals(header.dataStart(), header.entries().get(0).offset());
      assertEquals(header.dataStart() + 4, header.fileSize());
      byte[] bytes = header.bytes();
      assertEquals(bytes.length - 8, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong());
      String json = new String(bytes, 8, bytes.length - 8, StandardCharsets.UTF_8);
      assertTrue(json.matches("\\{.*} *"), json);
    }
    SafetensorsHeader empty = SafetensorsHeader.plan(List.of(), Map.of());
    assertEquals("{\"__metadata__\":{\"format\":\"pt\"}}", new String(empty.bytes(), 8, 32, StandardCharsets.UTF_8));
    assertEquals(40, empty.fileSize());
  }

  @Test
  void headerRejectsDuplicateAndReservedNames() {
    TensorSpec a = Tensors.spec("a", Dtype.F32, 1);
    assertThrows(IllegalArgumentException.class, () -> SafetensorsHeader.plan(List.of(a, a), Map.of()));
    assertThrows(IllegalArgumentException.class,
        () -> SafetensorsHeader.plan(List.of(Tensors.spec("__metadata__", Dtype.F32, 1)), Map.of()));
    assertThrows(IllegalArgumentException.class, () -> SafetensorsHeader.plan(List.of(a), Map.of("format", "np")));
    assertThrows(IllegalArgumentException.class, () -> Tensors.spec("neg", Dtype.F32, -1));
  }

  @Test
  void tensorsMustReceiveExactlyTheirByteCount() throws IOException {
    SafetensorsHeader header = referenceHeader(Map.of());
    SafetensorsWriter writer = discardingWriter("short.safetensors", header);
    String first = header.entries().get(0).name();
    OutputStream out = writer.tensor(first);
    out.write(new byte[3]);
    IOException tooFew = assertThrows(IOException.class, out::close);
    assertTrue(tooFew.getMessage().contains("short.safetensors") && tooFew.getMessage().contains(first)
        && tooFew.getMessage().contains("got only 3"), tooFew.getMessage());

    SafetensorsWriter other = discardingWriter("long.safetensors", header);
    OutputStream tooLong = other.tensor(first);
    IOException tooMany = assertThrows(IOException.class,
        () -> tooLong.write(new byte[(int) header.entry(first).byteLength() + 1]));
    assertTrue(tooMany.getMessage().contains("long.safetensors") && tooMany.getMessage().contains(first), tooMany.getMessage());
  }

  @Test
  void sequentialTargetsNeedLayoutOrderAndEveryTensor() throws IOException {
    SafetensorsHeader header = referenceHeader(Map.of());
    SafetensorsWriter writer = discardingWriter("seq.safetensors", header);
    String second = header.entries().get(1).name();
    IllegalStateException outOfOrder = assertThrows(IllegalStateException.class, () -> writer.tensor(second));
    assertTrue(outOfOrder.getMessage().contains(header.entries().get(0).name()), outOfOrder.getMessage());
    assertThrows(IllegalArgumentException.class, () -> writer.tensor("no.such.tensor"));
    writeAll(writer, header.entries().subList(0, 3));
    assertThrows(IllegalStateException.class, () -> writer.tensor(header.entries().get(0).name()));
    IllegalStateException missing = assertThrows(IllegalStateException.class, writer::finish);
    assertTrue(missing.getMessage().contains(header.entries().get(3).name()), missing.getMessage());
  }

  /** A sequential writer whose bytes go nowhere: for tests of what it refuses. */
  private static SafetensorsWriter discardingWriter(String name, SafetensorsHeader header) throws IOException {
    return SafetensorsWriter.sequential(name, header, Channels.newChannel(OutputStream.nullOutputStream()), null);
  }

  /** CRC-32C as 8 hex digits, computed here without the code under test. */
  private static String crc32c(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    return String.format("%08x", crc.getValue());
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
