package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.io.zip.ZipArchive;
import org.sat2diffusers.io.zip.ZipEntryInfo;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * A checkpoint rewritten in place with the same size and its modification time restored (cp -p,
 * rsync -t) is not "up to date": its fingerprint covers the zip directory and data.pkl (issue 18).
 * Each edit is a valid checkpoint: the changed entry's CRC-32 is updated in both headers, as a re-save
 * would do.
 */
class InPlaceEditTest {
  private static final FixtureConversion FIXTURE = FixtureConversion.V15_I2V_LORA;
  private static final String KEY = "model.diffusion_model.mixins.patch_embed.proj.weight";

  @TempDir Path work;

  @Test
  void aTensorRewrittenInPlaceIsConvertedAgain() throws IOException {
    Path source = TestPaths.copyTree(TestPaths.sat(FIXTURE.source), work.resolve("run"));
    Path checkpoint = source.resolve(FIXTURE.iteration).resolve("mp_rank_00_model_states.pt");
    Path out = work.resolve("out");
    convert(source, out);
    String committed = OutputFolders.committedAt(out);
    Path shard = out.resolve("transformer/diffusion_pytorch_model.safetensors");
    byte[] before = Files.readAllBytes(shard);
    assertTrue(convert(source, out).out().contains("up to date"), "a second run with nothing changed");

    long at;
    try (RandomAccessInput in = RandomAccessInputs.open(checkpoint.toString())) {
      TensorRecord record = new TorchCheckpointReader().index(in).tensors().stream()
          .filter(r -> r.key().equals(KEY)).findFirst().orElseThrow();
      at = record.fileOffset();
    }
    editInPlace(checkpoint, at);

    CliRun again = convert(source, out);
    assertTrue(again.out().contains("1 of 1 checkpoint(s) converted"), again.out());
    assertNotEquals(committed, OutputFolders.committedAt(out));
    assertFalse(Arrays.equals(before, Files.readAllBytes(shard)), "the shard still holds the old tensor");
  }

  @Test
  void aDataPklRewrittenInPlaceIsConvertedAgain() throws IOException {
    Path source = TestPaths.copyTree(TestPaths.sat(FIXTURE.source), work.resolve("run"));
    Path checkpoint = source.resolve(FIXTURE.iteration).resolve("mp_rank_00_model_states.pt");
    Path out = work.resolve("out");
    convert(source, out);
    String committed = OutputFolders.committedAt(out);

    // one letter of a key outside the state dict: a valid checkpoint converting to the same tensors
    long at;
    try (RandomAccessInput in = RandomAccessInputs.open(checkpoint.toString())) {
      ZipArchive zip = ZipArchive.read(in);
      ByteRange pkl = zip.dataRange(zip.require(zip.topFolder() + "/data.pkl"));
      byte[] bytes = new byte[(int) pkl.length()];
      in.readFully(pkl.offset(), bytes, 0, bytes.length);
      int key = indexOf(bytes, "iteration".getBytes(StandardCharsets.US_ASCII));
      assertTrue(key >= 0, "no 'iteration' key in data.pkl");
      at = pkl.offset() + key + "iteration".length() - 1;
    }
    editInPlace(checkpoint, at);

    CliRun again = convert(source, out);
    assertTrue(again.out().contains("1 of 1 checkpoint(s) converted"), again.out());
    assertNotEquals(committed, OutputFolders.committedAt(out));
  }

  /**
   * Changes the byte at {@code at} and the CRC-32 of the entry holding it, in its local header and
   * in the central directory; the size stays, the modification time is put back.
   */
  private static void editInPlace(Path checkpoint, long at) throws IOException {
    FileTime mtime = Files.getLastModifiedTime(checkpoint);
    long size = Files.size(checkpoint);
    byte[] file = Files.readAllBytes(checkpoint);
    try (RandomAccessInput in = RandomAccessInputs.open(checkpoint.toString())) {
      ZipArchive zip = ZipArchive.read(in);
      for (ZipEntryInfo entry : zip.entries()) {
        ByteRange data = zip.dataRange(entry);
        if (at >= data.offset() && at < data.end()) {
          file[(int) at] ^= 0x01;
          CRC32 crc = new CRC32();
          crc.update(file, (int) data.offset(), (int) data.length());
          ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
          b.putInt((int) entry.localHeaderOffset() + 14, (int) crc.getValue());
          b.putInt(centralHeader(file, zip.centralDirectory(), entry.name()) + 16, (int) crc.getValue());
        }
      }
    }
    Files.write(checkpoint, file);
    Files.setLastModifiedTime(checkpoint, mtime);
    assertEquals(size, Files.size(checkpoint));
  }

  /** Where the central directory header of {@code name} starts. */
  private static int centralHeader(byte[] file, ByteRange directory, String name) {
    ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    byte[] wanted = name.getBytes(StandardCharsets.UTF_8);
    for (int at = (int) directory.offset(); at < directory.end(); ) {
      int nameLength = b.getShort(at + 28) & 0xffff;
      int extraLength = b.getShort(at + 30) & 0xffff;
      int commentLength = b.getShort(at + 32) & 0xffff;
      if (Arrays.equals(file, at + 46, at + 46 + nameLength, wanted, 0, wanted.length)) {
        return at;
      }
      at += 46 + nameLength + extraLength + commentLength;
    }
    throw new AssertionError("no central directory entry " + name);
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return i;
      }
    }
    return -1;
  }

  private static CliRun convert(Path source, Path output) {
    return CliRun.run("convert", "--source", source, "--output", output).assertSucceeded();
  }
}
