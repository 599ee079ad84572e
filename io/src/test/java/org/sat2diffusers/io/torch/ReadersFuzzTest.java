package org.sat2diffusers.io.torch;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.EOFException;
import org.sat2diffusers.io.dcp.DcpCheckpoint;
import org.sat2diffusers.io.dcp.DcpException;
import org.sat2diffusers.io.pickle.PickleException;
import org.sat2diffusers.io.pickle.PickleLimits;
import org.sat2diffusers.io.pickle.PickleReader;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsException;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.safetensors.ShardIndex;
import org.sat2diffusers.io.zip.ZipArchive;
import org.sat2diffusers.io.zip.ZipEntryInfo;
import org.sat2diffusers.io.zip.ZipFormatException;

/**
 * Coverage-guided fuzzing of the readers that face untrusted bytes. Each accepts its input or refuses
 * it with its own checked error; anything else (a RuntimeException, an OutOfMemoryError, a hang) is a
 * finding. Without JAZZER_FUZZ=1 (so in {@code mvn verify}) each target runs once per seed in
 * src/test/resources/org/sat2diffusers/io/torch/ReadersFuzzTestInputs/&lt;target&gt;/ (the regression
 * run); with it, Jazzer fuzzes: see the README's "Fuzzing" section.
 */
class ReadersFuzzTest {
  /** Small limits, so that the fuzzer reaches them instead of spending its time allocating. */
  private static final PickleLimits LIMITS = new PickleLimits(1 << 12, 1 << 12, 64, 64);
  private static final int MAX_PICKLE_BYTES = 1 << 20;

  /** The zip directory, each entry's local header, then data.pkl and the tensors: the torch reader as a whole. */
  @FuzzTest(maxDuration = "10m")
  void torchCheckpoint(byte[] data) throws IOException {
    BytesInput in = new BytesInput(data);
    try {
      ZipArchive zip = ZipArchive.read(in);
      for (ZipEntryInfo e : zip.entries()) {
        zip.dataRange(e);
      }
    } catch (ZipFormatException | EOFException e) {
      return;
    }
    try {
      new TorchCheckpointReader(LIMITS, MAX_PICKLE_BYTES).index(in);
    } catch (IOException e) {
      // every refusal of the torch reader is an IOException subclass naming the file
    }
  }

  @FuzzTest(maxDuration = "10m")
  void unpickler(byte[] data) {
    try {
      PickleReader.read(data, "fuzz-input", new TorchPickleResolver(), LIMITS);
    } catch (PickleException e) {
      // refused
    }
  }

  @FuzzTest(maxDuration = "10m")
  void safetensors(byte[] data) throws IOException {
    try {
      SafetensorsFile file = SafetensorsFile.open(new BytesInput(data));
      for (SafetensorsEntry e : file.entries()) {
        file.readTensor(e.name());
      }
    } catch (SafetensorsException | EOFException e) {
      // refused
    }
  }

  /** A torch.distributed.checkpoint .metadata: the allowlisting unpickler and the metadata checks. */
  @FuzzTest(maxDuration = "10m")
  void dcpMetadata(byte[] data) {
    try {
      DcpCheckpoint.parseMetadata(data, "fuzz-input/.metadata", "fuzz-input", LIMITS);
    } catch (DcpException e) {
      // refused, naming the file
    }
  }

  @FuzzTest(maxDuration = "10m")
  void shardIndex(byte[] data) {
    try {
      ShardIndex index = ShardIndex.parse("fuzz-input", data);
      ShardIndex.parse("fuzz-input", index.toJsonBytes()); // what it writes, it reads back
    } catch (IllegalArgumentException e) {
      // refused, naming the file
    }
  }
}
