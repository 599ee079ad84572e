package org.sat2diffusers.io.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.FileFingerprint;
import org.sat2diffusers.io.storage.Fixtures;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.zip.ZipArchive;

class CheckpointFingerprintsTest {
  private static final Path CHECKPOINT = Fixtures.testdata().resolve("sat/cogvideox-5b-lora/200/mp_rank_00_model_states.pt");

  @TempDir Path work;

  @Test
  void aByteChangedInDataPklOrTheDirectoryChangesTheChecksumNotTheSizeOrTime() throws IOException {
    Path copy = Files.copy(CHECKPOINT, work.resolve("a.pt"));
    FileFingerprint original = CheckpointFingerprints.of(copy.toString());
    assertTrue(original.checksum().matches("crc32c:[0-9a-f]{8}"), original.checksum());
    assertEquals(original, CheckpointFingerprints.of(copy.toString()));

    ByteRange pkl;
    ByteRange directory;
    try (RandomAccessInput in = RandomAccessInputs.open(copy.toString())) {
      ZipArchive zip = ZipArchive.read(in);
      pkl = zip.dataRange(zip.require(zip.topFolder() + "/data.pkl"));
      directory = zip.centralDirectory();
    }
    for (long at : new long[] {pkl.offset() + pkl.length() / 2, directory.offset() + 16}) { // 16: a CRC-32 field
      flipKeepingTime(copy, at);
      FileFingerprint edited = CheckpointFingerprints.of(copy.toString());
      assertEquals(original.sizeBytes(), edited.sizeBytes());
      assertEquals(original.lastModifiedMillis(), edited.lastModifiedMillis());
      assertNotEquals(original.checksum(), edited.checksum(), "byte " + at + " changed");
      flipKeepingTime(copy, at);
      assertEquals(original, CheckpointFingerprints.of(copy.toString()));
    }
  }

  @Test
  void aFileThatIsNoTorchZipHasNoChecksum() throws IOException {
    Path legacy = Fixtures.testdata().resolve("bad/not-a-zip-legacy-torch.pt");
    FileFingerprint f = CheckpointFingerprints.of(legacy.toString());
    assertNull(f.checksum());
    assertEquals(Files.size(legacy), f.sizeBytes());
  }

  private static void flipKeepingTime(Path file, long at) throws IOException {
    FileTime time = Files.getLastModifiedTime(file);
    byte[] bytes = Files.readAllBytes(file);
    bytes[(int) at] ^= 0x20;
    Files.write(file, bytes);
    Files.setLastModifiedTime(file, time);
  }
}
