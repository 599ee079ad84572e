package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.cli.ExitCodes;
import org.sat2diffusers.pipeline.testing.TestPaths;

/** {@code verify DIR} passes a folder as converted and catches every kind of later damage, naming the file. */
class VerifyCommandTest {
  private static final String SHARD = "vae/diffusion_pytorch_model-00002-of-00004.safetensors";
  private static final String INDEX = "vae/diffusion_pytorch_model.safetensors.index.json";

  @TempDir Path work;

  @Test
  void passesAFolderAsConverted() throws IOException {
    Path out = ConvertedCopies.converted(work);
    CliRun run = CliRun.run("verify", out).assertSucceeded();
    assertTrue(run.out().contains("325 tensors"), run.out());
  }

  @Test
  void catchesOneFlippedByteInAShard() throws IOException {
    Path out = ConvertedCopies.converted(work);
    Path shard = out.resolve(SHARD);
    flipBits(shard, 3, 0x01);
    assertRefused(out, shard + ": tensor '", "has crc32c");
  }

  @Test
  void checksTheDigestTheReportNames() throws IOException {
    Path out = work.resolve("sha256");
    CliRun.run("convert", "--source", TestPaths.sat("cogvideox-2b-sft"), "--output", out, "--digest", "sha256")
        .assertSucceeded();
    CliRun.run("verify", out).assertSucceeded();
    Path file = out.resolve("transformer/diffusion_pytorch_model.safetensors");
    flipBits(file, 1, 0x40);
    assertRefused(out, file + ": tensor '", "has sha256");
  }

  @Test
  void catchesAChangedHeaderThatStillParses() throws IOException {
    Path out = ConvertedCopies.converted(work);
    Path shard = out.resolve(SHARD);
    byte[] bytes = Files.readAllBytes(shard);
    String header = new String(bytes, 8, 200, StandardCharsets.ISO_8859_1);
    int at = 8 + header.indexOf("\"pt\"");
    assertTrue(at > 8, header);
    bytes[at + 2] = 'u'; // "format": "pt" -> "pu": valid JSON, same length, same tensors
    Files.write(shard, bytes);
    assertRefused(out, shard + ": the header's crc32c");
  }

  @Test
  void catchesAnIndexThatPutsATensorInTheWrongShard() throws IOException {
    Path out = ConvertedCopies.converted(work);
    Path index = out.resolve(INDEX);
    String json = Files.readString(index, StandardCharsets.UTF_8);
    String moved = json.replaceFirst("-00001-of-00004", "-00003-of-00004");
    assertTrue(!moved.equals(json));
    Files.writeString(index, moved);
    assertRefused(out, index + ": weight_map puts '");
  }

  @Test
  void catchesAStrayWeightFileAndAMissingMarker() throws IOException {
    Path out = ConvertedCopies.converted(work);
    Files.copy(out.resolve(SHARD), out.resolve("vae/stray.safetensors"));
    Files.delete(out.resolve("_SUCCESS"));
    assertRefused(out, out.resolve("vae/stray.safetensors") + ": a weight file the report does not list",
        "no _SUCCESS commit marker");
  }

  @Test
  void catchesATruncatedShard() throws IOException {
    Path out = ConvertedCopies.converted(work);
    Path shard = out.resolve(SHARD);
    byte[] bytes = Files.readAllBytes(shard);
    Files.write(shard, Arrays.copyOf(bytes, bytes.length - 1));
    assertRefused(out, shard + ": " + (bytes.length - 1) + " bytes, the report says " + bytes.length);
  }

  /** Flips the {@code mask} bits of the byte {@code fromEnd} bytes before the end of {@code file}. */
  private static void flipBits(Path file, int fromEnd, int mask) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - fromEnd] ^= (byte) mask;
    Files.write(file, bytes);
  }

  private static void assertRefused(Path out, String... expected) {
    CliRun run = CliRun.run("verify", out).assertNoStackTrace();
    assertEquals(ExitCodes.FAILED, run.exitCode(), run.out() + run.err());
    for (String e : expected) {
      assertTrue(run.err().contains(e), "verify did not say '" + e + "':\n" + run.err());
    }
  }
}
