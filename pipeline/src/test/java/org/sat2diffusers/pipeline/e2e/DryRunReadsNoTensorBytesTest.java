package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.sat2diffusers.io.sat.SatCheckpoint;
import org.sat2diffusers.io.sat.SatLayout;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.ForwardingRandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.io.zip.ZipArchive;
import org.sat2diffusers.io.zip.ZipEntryInfo;
import org.sat2diffusers.pipeline.run.DryRun;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.convert.ConversionSettings;

/**
 * Issue 9: a dry run reads no byte of tensor data. {@link DryRun#plan} gets an opener whose inputs
 * record every read; no read may touch a tensor storage (its byte range from the checkpoint's own
 * tensor records), every read lies in the zip directory, a local header or a non-tensor entry
 * (data.pkl, byteorder, version), and all reads together are at most the file's non-tensor bytes.
 */
class DryRunReadsNoTensorBytesTest {
  /** An input that records the byte range of every read. */
  static final class RecordingInput extends ForwardingRandomAccessInput {
    final List<ByteRange> reads = new ArrayList<>();

    RecordingInput(RandomAccessInput delegate) {
      super(delegate);
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
      reads.add(new ByteRange(path(), position, length));
      super.readFully(position, buffer, offset, length);
    }
  }

  @TempDir Path work;

  @ParameterizedTest
  @EnumSource(FixtureConversion.class)
  void dryRunReadsOnlyTheDirectoryAndThePickle(FixtureConversion conversion) throws IOException {
    SatCheckpoint checkpoint = SatLayout.resolve(TestPaths.sat(conversion.source).toString());
    String output = work.resolve("out").toString();
    CheckpointJob job = new CheckpointJob(output, conversion.source, checkpoint.iteration(), checkpoint.files(), output,
        settings(conversion), SatLayout.runFolder(checkpoint), SatLayout.runModelConfig(checkpoint).orElse(null));
    Map<String, RecordingInput> opened = new LinkedHashMap<>();

    List<DryRun.Planned> plans = DryRun.plan(List.of(job), file -> {
      RecordingInput in = new RecordingInput(RandomAccessInputs.open(file));
      opened.put(file, in);
      return in;
    });

    assertEquals(1, plans.size());
    assertTrue(plans.get(0).ok(), "dry run of " + conversion.source + " failed: " + plans.get(0).error());
    assertEquals(checkpoint.files(), List.copyOf(opened.keySet()), "files the dry run opened");
    for (String file : checkpoint.files()) {
      List<ByteRange> storages = storageRanges(file);
      assertTrue(!storages.isEmpty(), file + " has no tensor storages to avoid");
      long fileSize;
      try (RandomAccessInput in = RandomAccessInputs.open(file)) {
        fileSize = in.size();
      }
      long storageBytes = storages.stream().mapToLong(ByteRange::length).sum();
      List<ByteRange> metadata = merged(metadataRanges(file));
      long read = 0;
      for (ByteRange r : opened.get(file).reads) {
        assertTrue(metadata.stream().anyMatch(m -> m.offset() <= r.offset() && r.end() <= m.end()),
            file + ": the dry run read bytes " + r.offset() + ".." + r.end()
                + ", outside the zip directory, the local headers and the non-tensor entries");
        for (ByteRange s : storages) {
          assertTrue(r.end() <= s.offset() || r.offset() >= s.end(),
              file + ": the dry run read bytes " + r.offset() + ".." + r.end() + " of the tensor storage at "
                  + s.offset() + ".." + s.end());
        }
        read += r.length();
      }
      assertTrue(read > 0, file + ": nothing read");
      assertTrue(read <= fileSize - storageBytes,
          file + ": " + read + " bytes read, more than its " + (fileSize - storageBytes) + " bytes outside tensor storages");
    }
  }

  /** The byte range of every tensor storage of {@code file}, once per storage. */
  private static List<ByteRange> storageRanges(String file) throws IOException {
    Map<String, ByteRange> byStorage = new LinkedHashMap<>();
    try (RandomAccessInput in = RandomAccessInputs.open(file)) {
      for (TensorRecord t : new TorchCheckpointReader().index(in).tensors()) {
        byStorage.putIfAbsent(t.storageKey(), new ByteRange(file, t.storageFileOffset(), t.storageBytes()));
      }
    }
    return List.copyOf(byStorage.values());
  }

  /**
   * What may be read without reading tensors: every local header, the data of the entries outside
   * {@code <top>/data/} (data.pkl, byteorder, version), and everything after the last entry's data
   * (the central directory and the end records).
   */
  private static List<ByteRange> metadataRanges(String file) throws IOException {
    List<ByteRange> ranges = new ArrayList<>();
    try (RandomAccessInput in = RandomAccessInputs.open(file)) {
      ZipArchive zip = ZipArchive.read(in);
      String storages = zip.topFolder() + "/data/";
      long entriesEnd = 0;
      for (ZipEntryInfo entry : zip.entries()) {
        ByteRange data = zip.dataRange(entry);
        ranges.add(new ByteRange(file, entry.localHeaderOffset(), data.offset() - entry.localHeaderOffset()));
        if (!entry.name().startsWith(storages)) {
          ranges.add(data);
        }
        entriesEnd = Math.max(entriesEnd, data.end());
      }
      ranges.add(new ByteRange(file, entriesEnd, in.size() - entriesEnd));
    }
    return ranges;
  }

  /** {@code ranges} with touching or overlapping ones joined, in file order. */
  private static List<ByteRange> merged(List<ByteRange> ranges) {
    List<ByteRange> sorted = new ArrayList<>(ranges);
    sorted.sort(Comparator.comparingLong(ByteRange::offset));
    List<ByteRange> out = new ArrayList<>();
    for (ByteRange r : sorted) {
      ByteRange last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && r.offset() <= last.end()) {
        out.set(out.size() - 1, new ByteRange(last.file(), last.offset(), Math.max(last.end(), r.end()) - last.offset()));
      } else {
        out.add(r);
      }
    }
    return out;
  }

  /** The fixture's --model (the 5B LoRA fixture needs it); the other options do not change what is read. */
  private static ConversionSettings settings(FixtureConversion conversion) {
    int at = conversion.options.indexOf("--model");
    String model = at < 0 ? "auto" : conversion.options.get(at + 1);
    ConversionSettings d = ConversionSettings.defaults();
    return new ConversionSettings(d.loraAlpha(), d.dtype(), d.vaeDtype(), d.maxShardBytes(), model, d.satConfigYaml(),
        d.components());
  }
}
