package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 8, model-parallel checkpoints: fixtures split into 2 and 4 ranks the way SAT partitions
 * them (testdata/model-parallel, made by src/test/python/split_model_parallel.py) convert to exactly
 * the tensors of the unsplit fixture; ranks that disagree on a replicated tensor, and LoRA in a
 * model-parallel checkpoint, fail naming what is wrong.
 */
class ModelParallelConversionTest {
  private static final Path SPLIT = TestPaths.testdata().resolve("model-parallel");
  static final String REPLICATED = "model.diffusion_model.transformer.layers.1.input_layernorm.weight";

  @TempDir static Path work;
  private static Path unsplit;

  @BeforeAll
  static void convertTheUnsplitFixture() {
    unsplit = work.resolve("unsplit");
    CliRun.run("convert", "--source", TestPaths.sat("cogvideox-2b-sft"), "--output", unsplit).assertSucceeded();
  }

  @ParameterizedTest(name = "{0} ranks")
  @ValueSource(ints = {2, 4})
  void ranksMergeIntoTheUnsplitModel(int ranks) throws IOException {
    Path out = work.resolve("mp" + ranks);
    CliRun.run("convert", "--source", SPLIT.resolve("cogvideox-2b-sft-mp" + ranks), "--output", out)
        .assertSucceeded().assertNoStackTrace();
    assertSameFolders(unsplit, out);
    assertEquals(List.of(), ExpectedTensors.mismatches(out, TestPaths.expected("cogvideox-2b-sft/1000.json")));
    String report = Files.readString(out.resolve("conversion_report.json"));
    assertTrue(report.contains("mp_rank_0" + (ranks - 1) + "_model_states.pt"), "the report lists every rank file");
  }

  @Test
  void releasedLayoutKeepsItsVaeBesideTheRanks() throws IOException {
    Path release = TestPaths.copyTree(SPLIT.resolve("cogvideox-5b-i2v-release-mp2"), work.resolve("release-mp2"));
    TestPaths.copyTree(TestPaths.sat("cogvideox-5b-i2v-release/vae"), release.resolve("vae"));
    Path merged = work.resolve("release-mp2-out");
    Path single = work.resolve("release-out");
    CliRun.run("convert", "--source", release, "--output", merged).assertSucceeded();
    CliRun.run("convert", "--source", TestPaths.sat("cogvideox-5b-i2v-release"), "--output", single).assertSucceeded();
    assertSameFolders(single, merged);
  }

  @Test
  void ranksDisagreeingOnAReplicatedTensorFailNamingItAndTheRanks() throws IOException {
    Path run = TestPaths.copyTree(SPLIT.resolve("cogvideox-2b-sft-mp4"), work.resolve("mismatch"));
    Path rank2 = run.resolve("1000/mp_rank_02_model_states.pt");
    flipLastByte(rank2, REPLICATED);
    Path out = work.resolve("mismatch-out");
    CliRun result = CliRun.run("convert", "--source", run, "--output", out).assertNoStackTrace();
    assertNotEquals(0, result.exitCode(), result.err());
    assertTrue(result.err().contains("'" + REPLICATED + "' differs between model-parallel ranks 00")
        && result.err().contains(" and 02 (" + rank2 + ")"), result.err());
    assertEquals(List.of(), OutputFolders.committedFiles(out), "nothing is committed");
  }

  @Test
  void loraInAModelParallelCheckpointIsRefused() throws IOException {
    Path out = work.resolve("lora-out");
    CliRun result = CliRun.run("convert", "--source", SPLIT.resolve("cogvideox-5b-lora-mp2"), "--output", out,
        "--model", "cogvideox-5b").assertNoStackTrace();
    assertNotEquals(0, result.exitCode(), result.err());
    assertTrue(result.err().contains("SAT lora2 tensor in a checkpoint of 2 model-parallel ranks")
        && result.err().contains("query_key_value.original.weight"), result.err());
    assertEquals(List.of(), OutputFolders.committedFiles(out));
  }

  /** Every file of {@code expected}'s component folders and model_index.json is in {@code actual} with the same bytes. */
  private static void assertSameFolders(Path expected, Path actual) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(expected)) {
      files = walk.filter(Files::isRegularFile).map(expected::relativize)
          .filter(p -> p.getNameCount() > 1 || p.toString().equals("model_index.json")).sorted().toList();
    }
    assertFalse(files.isEmpty());
    try (Stream<Path> walk = Files.walk(actual)) {
      assertEquals(files, walk.filter(Files::isRegularFile).map(actual::relativize)
          .filter(p -> p.getNameCount() > 1 || p.toString().equals("model_index.json")).sorted().toList());
    }
    for (Path file : files) {
      byte[] want = Files.readAllBytes(expected.resolve(file));
      byte[] got = Files.readAllBytes(actual.resolve(file));
      if (file.toString().endsWith(".safetensors")) {
        assertEquals(header(want), header(got), file + ": header (without __metadata__)");
        assertArrayEquals(data(want), data(got), file + ": tensor bytes");
      } else {
        assertArrayEquals(want, got, file.toString());
      }
    }
  }

  /** The safetensors header without {@code __metadata__} (which may record where the file came from). */
  private static ObjectNode header(byte[] file) throws IOException {
    long length = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    ObjectNode header = (ObjectNode) TestData.json(Arrays.copyOfRange(file, 8, 8 + (int) length));
    header.remove("__metadata__");
    return header;
  }

  private static byte[] data(byte[] file) {
    long length = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    return Arrays.copyOfRange(file, 8 + (int) length, file.length);
  }

  /** Flips the last byte of tensor {@code key} in {@code checkpoint}: its ranks then disagree. */
  static void flipLastByte(Path checkpoint, String key) throws IOException {
    TensorRecord tensor;
    try (RandomAccessInput in = RandomAccessInputs.open(checkpoint.toString())) {
      tensor = new TorchCheckpointReader().index(in).tensors().stream()
          .filter(t -> t.key().equals(key)).findFirst().orElseThrow();
    }
    try (RandomAccessFile f = new RandomAccessFile(checkpoint.toFile(), "rw")) {
      long at = tensor.fileOffset() + tensor.byteLength() - 1;
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 1);
    }
  }
}
