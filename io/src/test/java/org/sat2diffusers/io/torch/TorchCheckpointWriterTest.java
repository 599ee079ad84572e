package org.sat2diffusers.io.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.pickle.PickleException;
import org.sat2diffusers.io.pickle.PickleGlobal;
import org.sat2diffusers.io.pickle.PickleLimits;
import org.sat2diffusers.io.pickle.PickleReader;
import org.sat2diffusers.io.pickle.PickleResolver;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.Fixtures;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.CheckpointWriteException.Problem;
import org.sat2diffusers.io.torch.WriterSamples.Sample;
import org.sat2diffusers.io.zip.ZipArchive;
import org.sat2diffusers.io.zip.ZipEntryInfo;

class TorchCheckpointWriterTest {
  /** Where the files for io/src/test/python/torch_writer_check.py are left. */
  private static final Path SAMPLES = Paths.get("target", "torch-writer-samples");
  private static final String REFERENCE = "org/sat2diffusers/io/torch/writer/reference.pt";

  @TempDir Path dir;

  @Test
  void everyTensorReadsBackWithItsDtypeShapeViewAndBytes() throws IOException {
    Sample sample = WriterSamples.mixed();
    Path file = write(SAMPLES.resolve("mixed.pt"), sample);
    CheckpointIndex index = index(file);

    assertEquals("module", index.wrapperKey());
    assertEquals(sample.tensors().stream().map(TensorToWrite::name).toList(),
        index.tensors().stream().map(TensorRecord::key).toList());
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      for (int i = 0; i < sample.tensors().size(); i++) {
        TensorToWrite want = sample.tensors().get(i);
        TensorRecord got = index.tensors().get(i);
        assertEquals(want.dtype(), got.dtype(), want.name());
        assertEquals(want.shape(), got.shape(), want.name());
        assertEquals(want.stride(), got.stride(), want.name());
        assertEquals(want.storageOffset(), got.storageOffset(), want.name());
        assertEquals(0, got.storageFileOffset() % 64, want.name() + " is 64-byte aligned");
        byte[] stored = new byte[(int) got.storageBytes()];
        in.readFully(got.storageFileOffset(), stored, 0, stored.length);
        assertArrayEquals(WriterSamples.storageBytes(want.storage()), stored, want.name());
      }
    }
    assertEquals(List.of("f32.t"), record(index, "f32").sharedWith());
    assertEquals(List.of("encoder.embed_tokens.weight"), record(index, "shared.weight").sharedWith());
    assertEquals(record(index, "shared.weight").storageFileOffset(),
        record(index, "encoder.embed_tokens.weight").storageFileOffset());
    assertEquals(List.of(), record(index, "bf16").sharedWith());
    assertEquals(List.of("iteration", "note", "flag", "nothing"), List.copyOf(index.otherItems().keySet()));
  }

  /** The use the writer is for: each storage a byte range of a Diffusers safetensors file, through a small buffer. */
  @Test
  void storagesStreamFromSafetensorsByteRanges() throws IOException {
    Path source = Fixtures.resource(
        "org/sat2diffusers/io/torch/ReadersFuzzTestInputs/safetensors/transformer-2b-sft.safetensors");
    Path file = dir.resolve("from-safetensors.pt");
    try (RandomAccessInput in = RandomAccessInputs.open(source.toString())) {
      SafetensorsFile safetensors = SafetensorsFile.open(in);
      List<TensorToWrite> tensors = new ArrayList<>();
      for (SafetensorsEntry e : safetensors.entries()) {
        tensors.add(TensorToWrite.contiguous(e.name(), e.dtype(), e.shape(),
            StorageSource.range(in, e.offset(), e.byteLength())));
      }
      new TorchCheckpointWriter(100).write(file.toString(), tensors, Map.of());

      CheckpointIndex index = index(file);
      assertEquals(safetensors.entries().size(), index.tensors().size());
      try (RandomAccessInput written = RandomAccessInputs.open(file.toString())) {
        for (SafetensorsEntry e : safetensors.entries()) {
          TensorRecord t = record(index, e.name());
          assertEquals(List.of(e.dtype(), e.shape()), List.of(t.dtype(), t.shape()), e.name());
          assertTrue(t.contiguous(), e.name());
          byte[] bytes = new byte[(int) t.byteLength()];
          written.readFully(t.fileOffset(), bytes, 0, bytes.length);
          assertArrayEquals(safetensors.readTensor(e.name()), bytes, e.name());
        }
      }
    }
  }

  /** reference.pt is what torch.save (1.13) wrote for the same objects: make_reference in torch_writer_check.py. */
  @Test
  void pickleAndStoragesAreWhatTorchSaveWritesForTheSameObjects() throws IOException {
    Path ours = write(dir.resolve("reference.pt"), WriterSamples.mixed());
    Path torch = Fixtures.resource(REFERENCE);
    try (ZipFile mine = new ZipFile(ours.toFile()); ZipFile theirs = new ZipFile(torch.toFile())) {
      List<String> torchNames = Collections.list(theirs.entries()).stream().map(ZipEntry::getName).toList();
      for (String name : torchNames) {
        assertArrayEquals(bytes(theirs, name), bytes(mine, name), name);
      }
    }
    // data.pkl is the first record in both: its local header, padding, data and descriptor are torch's bytes
    byte[] mine = Files.readAllBytes(ours);
    byte[] theirs = Files.readAllBytes(torch);
    int firstRecordEnd = 30 + "reference/data.pkl".length() + u16(theirs, 28) + pickleLength(torch) + 16;
    assertArrayEquals(Arrays.copyOf(theirs, firstRecordEnd), Arrays.copyOf(mine, firstRecordEnd));

    CheckpointIndex a = index(ours);
    CheckpointIndex b = index(torch);
    assertEquals(b.otherItems(), a.otherItems());
    assertEquals(b.tensors().size(), a.tensors().size());
    for (int i = 0; i < a.tensors().size(); i++) {
      TensorRecord x = a.tensors().get(i);
      TensorRecord y = b.tensors().get(i);
      assertEquals(List.of(y.key(), y.dtype(), y.shape(), y.stride(), y.storageKey(), y.storageOffset(),
              y.storageBytes(), y.sharedWith()),
          List.of(x.key(), x.dtype(), x.shape(), x.stride(), x.storageKey(), x.storageOffset(), x.storageBytes(),
              x.sharedWith()));
    }
  }

  /**
   * torch2/reference.pt is torch 2.6's torch.save of the same objects (same script, Debian trixie's
   * python3-torch). The files are the same bytes but for the half of the serialization id that
   * torch derives from C++ std::hash values, and that record's CRC-32.
   */
  @Test
  void theFileIsTorch2sButForHalfTheSerializationId() throws IOException {
    Path ours = write(dir.resolve("reference.pt"), WriterSamples.mixed());
    Path torch = Fixtures.resource("org/sat2diffusers/io/torch/writer/torch2/reference.pt");
    byte[] mine = Files.readAllBytes(ours);
    byte[] theirs = Files.readAllBytes(torch);
    assertEquals(theirs.length, mine.length);
    try (RandomAccessInput a = RandomAccessInputs.open(ours.toString());
        RandomAccessInput b = RandomAccessInputs.open(torch.toString())) {
      ZipArchive zipA = ZipArchive.read(a);
      ZipArchive zipB = ZipArchive.read(b);
      ZipEntryInfo id = zipB.require("reference/.data/serialization_id");
      ByteRange idData = zipB.dataRange(id);
      int idStart = (int) idData.offset();
      // every record before the id, the id's header, and the id's CRC-32 half: torch's bytes
      assertArrayEquals(Arrays.copyOf(theirs, idStart), Arrays.copyOf(mine, idStart));
      assertArrayEquals(Arrays.copyOfRange(theirs, idStart + 20, idStart + 40),
          Arrays.copyOfRange(mine, idStart + 20, idStart + 40));
      // the directory: the same entries at the same places, the id's CRC aside; the same end records
      List<ZipEntryInfo> expected = zipB.entries().stream()
          .map(e -> e.name().equals(id.name()) ? withCrc(e, 0) : e).toList();
      List<ZipEntryInfo> actual = zipA.entries().stream()
          .map(e -> e.name().equals(id.name()) ? withCrc(e, 0) : e).toList();
      assertEquals(expected, actual);
      assertArrayEquals(Arrays.copyOfRange(theirs, theirs.length - 98, theirs.length),
          Arrays.copyOfRange(mine, mine.length - 98, mine.length));
    }
  }

  private static ZipEntryInfo withCrc(ZipEntryInfo e, long crc) {
    return new ZipEntryInfo(e.name(), e.method(), e.flags(), e.compressedSize(), e.uncompressedSize(),
        e.localHeaderOffset(), crc);
  }

  @Test
  void archiveIsTorchsZipLayout() throws IOException {
    Path file = write(dir.resolve("mp_rank_00_model_states.pt"), WriterSamples.mixed());
    List<String> names = new ArrayList<>();
    try (ZipFile zip = new ZipFile(file.toFile())) {
      for (ZipEntry entry : Collections.list(zip.entries())) {
        names.add(entry.getName());
        assertEquals(ZipEntry.STORED, entry.getMethod(), entry.getName());
        byte[] data = bytes(zip, entry.getName());
        CRC32 crc = new CRC32();
        crc.update(data);
        assertEquals(crc.getValue(), entry.getCrc(), entry.getName() + " CRC-32");
      }
      assertEquals("little", new String(bytes(zip, "mp_rank_00_model_states/byteorder"), StandardCharsets.US_ASCII));
      assertEquals("3\n", new String(bytes(zip, "mp_rank_00_model_states/version"), StandardCharsets.US_ASCII));
      assertTrue(new String(bytes(zip, "mp_rank_00_model_states/.data/serialization_id"), StandardCharsets.US_ASCII)
          .matches("[0-9]{40}"));
    }
    List<String> expected = new ArrayList<>(List.of("data.pkl", "byteorder"));
    for (String key : List.of("0", "1", "10", "11", "12", "13", "2", "3", "4", "5", "6", "7", "8", "9")) {
      expected.add("data/" + key);
    }
    expected.addAll(List.of("version", ".data/serialization_id"));
    assertEquals(expected.stream().map(n -> "mp_rank_00_model_states/" + n).toList(), names);

    byte[] bytes = Files.readAllBytes(file);
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      ZipArchive zip = ZipArchive.read(in);
      for (ZipEntryInfo entry : zip.entries()) {
        ByteRange range = zip.dataRange(entry);
        assertEquals(0, range.offset() % 64, entry.name());
        int at = (int) entry.localHeaderOffset();
        int nameLength = entry.name().length();
        assertEquals("FB", new String(bytes, at + 30 + nameLength, 2, StandardCharsets.US_ASCII), entry.name());
        boolean empty = entry.uncompressedSize() == 0;
        assertEquals(empty ? 0x0800 : 0x0808, u16(bytes, at + 6), entry.name() + " flags");
        assertEquals(empty ? 0x0800 : 0x0808, entry.flags(), entry.name() + " central flags");
        if (!empty) { // the data descriptor follows the data
          int d = (int) (range.offset() + range.length());
          assertEquals(0x08074b50, ByteBuffer.wrap(bytes, d, 16).order(ByteOrder.LITTLE_ENDIAN).getInt());
          assertEquals((int) entry.crc32(), ByteBuffer.wrap(bytes, d + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt());
        }
      }
    }
    // miniz in ZIP64 mode always ends with the ZIP64 end record and its locator
    assertEquals(0x07064b50, ByteBuffer.wrap(bytes, bytes.length - 42, 4).order(ByteOrder.LITTLE_ENDIAN).getInt());
  }

  @Test
  void thePickleHasOnlyWhatTheRestrictedReaderAllows() throws IOException {
    Path file = write(dir.resolve("x.pt"), WriterSamples.mixed());
    byte[] pickle;
    try (ZipFile zip = new ZipFile(file.toFile())) {
      pickle = bytes(zip, "x/data.pkl");
    }
    Set<String> globals = new LinkedHashSet<>();
    TorchPickleResolver torch = new TorchPickleResolver();
    PickleResolver recording = new PickleResolver() {
      @Override
      public Object call(PickleGlobal callable, List<Object> args) throws PickleException {
        globals.add(callable.qualifiedName());
        return torch.call(callable, args);
      }

      @Override
      public Object persistentLoad(Object pid) throws PickleException {
        globals.add(((PickleGlobal) ((List<?>) pid).get(1)).qualifiedName());
        return torch.persistentLoad(pid);
      }
    };
    Map<?, ?> top = (Map<?, ?>) PickleReader.read(pickle, "x.pt (data.pkl)", recording, PickleLimits.DEFAULT);
    Map<?, ?> module = (Map<?, ?>) top.get("module");
    assertTrue(module.values().stream().allMatch(v -> v instanceof StoredTensor), "every state dict value is a tensor");
    assertEquals(1000L, top.get("iteration"));
    assertEquals("reverse", top.get("note"));
    assertEquals(Boolean.TRUE, top.get("flag"));
    assertTrue(top.containsKey("nothing") && top.get("nothing") == null);
    // collections.OrderedDict is read by PickleReader itself; everything else is the torch allowlist
    assertEquals(Set.of("torch._utils._rebuild_tensor_v2", "torch.FloatStorage",
        "torch.BFloat16Storage", "torch.HalfStorage", "torch.LongStorage", "torch.BoolStorage", "torch.DoubleStorage",
        "torch.IntStorage", "torch.ByteStorage", "torch.CharStorage", "torch.ShortStorage"), globals);
  }

  /** More than 65535 entries: the classic end record saturates and readers must take the ZIP64 one. */
  @Test
  void moreThan65535EntriesUseTheZip64EndRecord() throws IOException {
    int count = 65537;
    Path file = write(SAMPLES.resolve("many.pt"), WriterSamples.manyEntries(count));
    byte[] bytes = Files.readAllBytes(file);
    ByteBuffer end = ByteBuffer.wrap(bytes, bytes.length - 22, 22).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0xffff, end.getShort(bytes.length - 22 + 10) & 0xffff, "classic entry count saturated");
    assertEquals(count + 4, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(bytes.length - 98 + 32),
        "ZIP64 end record entry count");
    try (ZipFile zip = new ZipFile(file.toFile())) {
      assertEquals(count + 4, zip.size());
    }
    CheckpointIndex index = index(file);
    assertEquals(count, index.tensors().size());
    for (int i : new int[] {0, 255, 256, 65535, 65536}) {
      TensorRecord t = index.tensors().get(i);
      assertEquals("t" + i, t.key());
      assertEquals((byte) i, bytes[(int) t.storageFileOffset()], t.key());
    }
  }

  /**
   * A storage past 4 GiB and one starting past 4 GiB: ZIP64 fields in local and central headers and
   * 64-bit data descriptors. The 4 GiB of zeros go to a sparse file (runs of zeros are skipped, not
   * written), so the test costs CRC and a scan, not 4 GiB of disk.
   */
  @Test
  void entriesLargerThanOrPastFourGiBGetZip64Fields() throws IOException {
    long big = (4L << 30) + 64;
    Files.createDirectories(SAMPLES);
    Path file = SAMPLES.resolve("large.pt");
    List<TensorToWrite> tensors = List.of(
        TensorToWrite.contiguous("big", Dtype.U8, List.of(big), zeros(big)),
        WriterSamples.contiguous("after", Dtype.F32, List.of(2L), WriterSamples.floats(1.5f, -2.5f)));
    try (SparseChannel out = new SparseChannel(file)) {
      new TorchCheckpointWriter().write(file.toString(), out, tensors, Map.of());
    }
    CheckpointIndex index = index(file);
    TensorRecord bigRecord = record(index, "big");
    TensorRecord after = record(index, "after");
    assertEquals(big, bigRecord.storageBytes());
    assertEquals(0, bigRecord.storageFileOffset() % 64);
    assertTrue(after.storageFileOffset() > big);
    assertEquals(0, after.storageFileOffset() % 64);
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      byte[] afterBytes = new byte[8];
      in.readFully(after.storageFileOffset(), afterBytes, 0, 8);
      assertArrayEquals(WriterSamples.floats(1.5f, -2.5f), afterBytes);
      ZipArchive zip = ZipArchive.read(in);
      ZipEntryInfo bigEntry = zip.require("large/data/0");
      assertEquals(big, bigEntry.uncompressedSize());
      byte[] header = new byte[30 + bigEntry.name().length() + 20];
      in.readFully(bigEntry.localHeaderOffset(), header, 0, header.length);
      assertEquals(0x0001, u16(header, 30 + bigEntry.name().length()), "the local extra starts with the ZIP64 field");
      assertTrue(zip.require("large/data/1").localHeaderOffset() > 0xffffffffL);
    }
    try (ZipFile zip = new ZipFile(file.toFile())) {
      ZipEntry entry = zip.getEntry("large/data/1");
      CRC32 crc = new CRC32();
      crc.update(WriterSamples.floats(1.5f, -2.5f));
      assertEquals(crc.getValue(), entry.getCrc());
      assertEquals(big, zip.getEntry("large/data/0").getSize());
    }
  }

  @Test
  void aSourceThatWritesTooLittleFailsNamingTheTensorAndLeavesNoFile() {
    Path file = dir.resolve("short.pt");
    StorageSource liar = new StorageSource() {
      @Override
      public long byteLength() {
        return 8;
      }

      @Override
      public void writeTo(OutputStream out, byte[] buffer) throws IOException {
        out.write(new byte[4]);
      }
    };
    CheckpointWriteException e = assertThrows(CheckpointWriteException.class, () -> new TorchCheckpointWriter()
        .write(file.toString(), List.of(TensorToWrite.contiguous("w", Dtype.F32, List.of(2L), liar)), Map.of()));
    assertEquals(Problem.SOURCE_LENGTH, e.problem());
    assertEquals("w", e.tensor());
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertFalse(Files.exists(file), "no partial checkpoint is left");
  }

  @Test
  void aSourceThatWritesTooMuchFails() {
    StorageSource liar = new StorageSource() {
      @Override
      public long byteLength() {
        return 4;
      }

      @Override
      public void writeTo(OutputStream out, byte[] buffer) throws IOException {
        out.write(new byte[8]);
      }
    };
    CheckpointWriteException e = assertThrows(CheckpointWriteException.class, () -> new TorchCheckpointWriter()
        .write(dir.resolve("long.pt").toString(), List.of(TensorToWrite.contiguous("w", Dtype.F32, List.of(1L), liar)),
            Map.of()));
    assertEquals(Problem.SOURCE_LENGTH, e.problem());
    assertFalse(Files.exists(dir.resolve("long.pt")));
  }

  @Test
  void badContentsAreRefusedBeforeAnythingIsWritten() {
    TensorToWrite.Storage four = WriterSamples.storage(Dtype.F32, new byte[16]);
    assertProblem(Problem.DUPLICATE_NAME, "a", List.of(
        new TensorToWrite("a", four, 0, List.of(4L), List.of(1L)),
        new TensorToWrite("a", four, 0, List.of(2L), List.of(1L))), Map.of());
    assertProblem(Problem.OUT_OF_STORAGE, "v", List.of(new TensorToWrite("v", four, 1, List.of(2L, 2L), List.of(2L, 1L))),
        Map.of());
    assertProblem(Problem.INVALID_SHAPE, "s", List.of(new TensorToWrite("s", four, 0, List.of(2L), List.of())), Map.of());
    assertProblem(Problem.INVALID_SHAPE, "n", List.of(new TensorToWrite("n", four, 0, List.of(-1L), List.of(1L))),
        Map.of());
    assertProblem(Problem.STORAGE_SIZE, "odd",
        List.of(WriterSamples.contiguous("odd", Dtype.BF16, List.of(1L), new byte[3])), Map.of());
    assertProblem(Problem.INVALID_VALUE, "args", List.of(), Map.of("args", List.of(1)));
    assertProblem(Problem.INVALID_VALUE, "lr", List.of(), Map.of("lr", 0.5));
    assertProblem(Problem.DUPLICATE_NAME, "module", List.of(), Map.of("module", 1L));
  }

  private void assertProblem(Problem problem, String tensor, List<TensorToWrite> tensors, Map<String, Object> values) {
    Path file = dir.resolve("bad.pt");
    CheckpointWriteException e = assertThrows(CheckpointWriteException.class,
        () -> new TorchCheckpointWriter().write(file.toString(), tensors, values));
    assertEquals(problem, e.problem(), e.getMessage());
    assertEquals(tensor, e.tensor());
    assertFalse(Files.exists(file), "nothing is created for contents that cannot be written");
  }

  private static Path write(Path file, Sample sample) throws IOException {
    Files.createDirectories(file.getParent());
    new TorchCheckpointWriter(1 << 10).write(file.toString(), sample.tensors(), sample.values());
    return file;
  }

  private static CheckpointIndex index(Path file) throws IOException {
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      return new TorchCheckpointReader().index(in);
    }
  }

  private static TensorRecord record(CheckpointIndex index, String key) {
    return index.tensors().stream().filter(t -> t.key().equals(key)).findFirst().orElseThrow();
  }

  private static byte[] bytes(ZipFile zip, String name) throws IOException {
    try (InputStream in = zip.getInputStream(zip.getEntry(name))) {
      return in.readAllBytes();
    }
  }

  private static int pickleLength(Path torchFile) throws IOException {
    try (ZipFile zip = new ZipFile(torchFile.toFile())) {
      return (int) zip.getEntry("reference/data.pkl").getSize();
    }
  }

  private static int u16(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
  }

  /** {@code length} zero bytes, written from the writer's buffer. */
  private static StorageSource zeros(long length) {
    return new StorageSource() {
      @Override
      public long byteLength() {
        return length;
      }

      @Override
      public void writeTo(OutputStream out, byte[] buffer) throws IOException {
        Arrays.fill(buffer, (byte) 0);
        for (long done = 0; done < length; ) {
          int n = (int) Math.min(buffer.length, length - done);
          out.write(buffer, 0, n);
          done += n;
        }
      }
    };
  }

  /** Writes a file front to back, leaving holes where whole writes are zeros (they read back as zeros). */
  private static final class SparseChannel implements WritableByteChannel {
    private final FileChannel file;
    private long position;

    SparseChannel(Path path) throws IOException {
      this.file = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = src.remaining();
      boolean zeros = true;
      for (int i = src.position(); i < src.limit() && zeros; i++) {
        zeros = src.get(i) == 0;
      }
      if (zeros) {
        src.position(src.limit());
      } else {
        while (src.hasRemaining()) {
          file.write(src, position + n - src.remaining());
        }
      }
      position += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return file.isOpen();
    }

    @Override
    public void close() throws IOException {
      file.close();
    }
  }

}
