package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
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

  /** A report naming files outside the folder: each is a finding, none is opened. */
  @Test
  void neverOpensAReportPathOutsideTheFolder() throws IOException {
    Path out = ConvertedCopies.converted(work);
    Path secret = Files.writeString(work.resolve("secret.txt"), "not part of the output\n");
    editReport(out, report -> {
      ObjectNode stray = ((ArrayNode) report.get("written_files")).addObject();
      stray.put("path", "../../../../etc/passwd").put("bytes", 1).put("header_crc32c", "00000000");
      stray.putObject("tensor_crc32c");
      ((ArrayNode) report.get("config_files")).addObject()
          .put("path", "../secret.txt").put("bytes", 23).put("sha256", TestData.sha256(secret));
    });
    assertRefused(out,
        out + "/../../../../etc/passwd: named by the report, a path leaving or bending inside the folder ('..' segment): not opened",
        out + "/../secret.txt: named by the report, a path leaving or bending inside the folder");
  }

  /** A component folder swapped for a link out of the output: not followed, each file under it a finding. */
  @Test
  void doesNotFollowALinkedComponentFolderOut() throws IOException {
    Path out = ConvertedCopies.converted(work);
    Path elsewhere = TestPaths.copyTree(out.resolve("transformer"), work.resolve("elsewhere"));
    try (var files = Files.walk(out.resolve("transformer"))) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
    Files.createSymbolicLink(out.resolve("transformer"), elsewhere);
    assertRefused(out,
        out.resolve("transformer") + ": a symbolic link, not a folder: transformer/diffusion_pytorch_model.safetensors not opened",
        out.resolve("transformer") + ": a symbolic link the report does not list");
  }

  /** A weight file replaced by a FIFO (no writer: opening it would block forever) is a finding at once. */
  @Test
  void aFifoInPlaceOfAWeightFileIsAFindingNotAHang() throws Exception {
    Path out = ConvertedCopies.converted(work);
    Path shard = out.resolve(SHARD);
    Files.delete(shard);
    assertEquals(0, new ProcessBuilder("mkfifo", shard.toString()).inheritIO().start().waitFor());
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> assertRefused(out,
        shard + ": a special file (FIFO, socket or device), not a regular file: not opened"));
  }

  /** Weight files are opened only as themselves: a link to a copy of the right bytes is refused. */
  @Test
  void aSymbolicLinkInPlaceOfAWeightFileIsNotFollowed() throws IOException {
    Path out = ConvertedCopies.converted(work);
    Path shard = out.resolve(SHARD);
    Path copy = Files.copy(shard, work.resolve("copy.safetensors"));
    Files.delete(shard);
    Files.createSymbolicLink(shard, copy);
    assertRefused(out, shard + ": a symbolic link, not a regular file: not opened");
  }

  @Test
  void anEmptyOrGarbledMarkerIsAFinding() throws IOException {
    Path out = ConvertedCopies.converted(work);
    Path marker = out.resolve("_SUCCESS");
    Files.writeString(marker, "");
    assertRefused(out, marker + ": empty: not a commit marker");
    Files.writeString(marker, "{\"committed_at\": \"2026-01-01T00:00:00Z\", \"sour");
    assertRefused(out, marker + ": not a commit marker");
    Files.write(marker, new byte[] {0, 1, 2, (byte) 0xff});
    assertRefused(out, marker + ": not a commit marker");
  }

  /** The marker of an overlapping run (other options, a source of another size) does not commit this report. */
  @Test
  void aMarkerOfAnotherConversionIsAFinding() throws IOException {
    Path out = ConvertedCopies.converted(work);
    Path marker = out.resolve("_SUCCESS");
    String original = Files.readString(marker);
    ObjectNode other = (ObjectNode) TestData.json(marker);
    ((ObjectNode) other.get("options")).put("dtype", "BF16");
    ((ObjectNode) other.get("sources").get(0)).put("size", other.get("sources").get(0).get("size").asLong() + 1);
    Files.writeString(marker, other.toPrettyString());
    assertRefused(out, marker + ": option dtype is BF16, the report says keep", marker + ": source file ");
    assertTrue(CliRun.run("verify", out).err().contains(" size is "));
    Files.writeString(marker, original);
    CliRun.run("verify", out).assertSucceeded();
  }

  @Test
  void catchesStrayFilesAndComponentFolders() throws IOException {
    Path out = ConvertedCopies.converted(work);
    TestPaths.copyTree(out.resolve("transformer"), out.resolve("transformer_2"));
    Files.writeString(out.resolve("notes.txt"), "hello\n");
    Files.createDirectories(out.resolve("vae/old"));
    Files.writeString(out.resolve("vae/old/config.json"), "{}\n");
    assertRefused(out,
        out.resolve("transformer_2") + ": a component folder the report does not list",
        out.resolve("notes.txt") + ": a file the report does not list",
        out.resolve("vae/old") + ": a folder the report does not list");
  }

  /** Every config the conversion wrote is checked against the sha256 the report records for it. */
  @Test
  void catchesEditedConfigs() throws IOException {
    for (String config : List.of("transformer/config.json", "model_index.json", "scheduler/scheduler_config.json",
        "vae/config.json", INDEX)) {
      Path out = ConvertedCopies.converted(work.resolve(config.replace('/', '_')));
      Path file = out.resolve(config);
      String text = Files.readString(file);
      Files.writeString(file, text.replaceFirst("\\{", "{\"edited\": 1, "));
      assertRefused(out, file + ": " + Files.size(file) + " bytes with sha256 ", "(edited after the conversion?)");
    }
  }

  /** A config the report's config_files does not list (an older run's, or added later) is a finding too. */
  @Test
  void catchesAConfigTheReportDoesNotList() throws IOException {
    Path out = ConvertedCopies.converted(work);
    editReport(out, report -> {
      ArrayNode configs = (ArrayNode) report.get("config_files");
      for (int i = 0; i < configs.size(); i++) {
        if (configs.get(i).get("path").asText().equals("transformer/config.json")) {
          configs.remove(i);
        }
      }
    });
    assertRefused(out, out.resolve("transformer/config.json") + ": a file the report does not list");
  }

  private static void editReport(Path out, Consumer<ObjectNode> edit) throws IOException {
    Path report = out.resolve("conversion_report.json");
    ObjectNode json = (ObjectNode) TestData.json(report);
    edit.accept(json);
    Files.writeString(report, json.toString());
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
