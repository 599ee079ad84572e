package org.sat2diffusers.io.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.Fixtures;
import org.sat2diffusers.io.storage.ForwardingRandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.RangeCopier;

class TorchCheckpointReaderTest {
  private static final String RESOURCES = "org/sat2diffusers/io/";

  /** Every fixture .pt with the description torch made of it, plus this module's own torch-made files. */
  static Stream<Arguments> checkpoints() throws IOException {
    Path testdata = Fixtures.testdata();
    List<Arguments> cases = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(testdata.resolve("sat"))) {
      walk.filter(p -> p.toString().endsWith(".pt")).sorted().forEach(pt -> {
        String relative = testdata.resolve("sat").relativize(pt).toString().replaceAll("\\.pt$", ".json");
        cases.add(Arguments.of(pt, testdata.resolve("expected/source").resolve(relative)));
      });
    }
    for (String own : List.of("torch/views", "torch/bare_state_dict", "zip/zip64")) {
      cases.add(Arguments.of(Fixtures.resource(RESOURCES + own + ".pt"), Fixtures.resource(RESOURCES + own + ".json")));
    }
    return cases.stream();
  }

  @ParameterizedTest
  @MethodSource("checkpoints")
  void recordsMatchWhatTorchReads(Path checkpoint, Path expectedJson) throws Exception {
    JsonNode expected = new ObjectMapper().readTree(expectedJson.toFile());
    try (RecordingInput in = new RecordingInput(RandomAccessInputs.open(checkpoint.toString()))) {
      CheckpointIndex index = new TorchCheckpointReader().index(in);
      assertEquals(checkpoint.toString(), index.path());
      assertEquals(expected.get("wrapper").isNull() ? null : expected.get("wrapper").asText(), index.wrapperKey());
      List<String> expectedKeys = new ArrayList<>();
      expected.get("tensors").fieldNames().forEachRemaining(expectedKeys::add);
      assertEquals(expectedKeys, index.tensors().stream().map(TensorRecord::key).toList());
      Map<String, List<String>> sharing = sharingGroups(expected.get("tensors"));

      List<ByteRange> indexingReads = List.copyOf(in.reads);
      for (TensorRecord tensor : index.tensors()) {
        JsonNode want = expected.get("tensors").get(tensor.key());
        assertEquals(want.get("dtype").asText(), tensor.dtype().name(), tensor.key());
        assertEquals(longs(want.get("shape")), tensor.shape(), tensor.key());
        assertEquals(longs(want.get("stride")), tensor.stride(), tensor.key());
        assertEquals(want.get("storage_offset").asLong(), tensor.storageOffset(), tensor.key());
        List<String> others = new ArrayList<>(sharing.get(tensor.key()));
        others.remove(tensor.key());
        assertEquals(others, tensor.sharedWith(), tensor.key());
        assertEquals(want.get("sha256").asText(), sha256(in, TensorRanges.ranges(in.path(), tensor)), tensor.key());
        ByteRange storage = new ByteRange(in.path(), tensor.storageFileOffset(), tensor.storageBytes());
        for (ByteRange read : indexingReads) {
          assertFalse(read.offset() < storage.end() && storage.offset() < read.end(),
              "indexing read " + read + " overlaps the bytes of " + tensor.key());
        }
      }
    }
  }

  @Test
  void deepSpeedExtrasAreSummarizedAsInertItems() throws IOException {
    Path checkpoint = Fixtures.testdata().resolve("sat/cogvideox-2b-sft/1000/mp_rank_00_model_states.pt");
    try (RandomAccessInput in = RandomAccessInputs.open(checkpoint.toString())) {
      Map<String, String> other = new TorchCheckpointReader().index(in).otherItems();
      assertEquals("argparse.Namespace object (inert)", other.get("args"));
      assertEquals("long 1000", other.get("iteration"));
      assertEquals("set of 0", other.get("sparse_tensor_module_names"));
      assertEquals("tensor U8 [5056]", other.get("torch_rng_state"));
      assertEquals("tuple of 5", other.get("np_rng_state"));
      assertFalse(other.containsKey("module"));
    }
  }

  @Test
  void aCheckpointCallingOsSystemIsRefusedAndNothingRuns() throws IOException {
    Path marker = Path.of("/tmp/sat2diffusers-pickle-was-executed"); // what the pickle would create
    Files.deleteIfExists(marker);
    String message = indexError("torch/os_system.pt");
    assertTrue(message.contains("refers to posix.system, which can run code"), message);
    assertTrue(message.contains("nothing was executed"), message);
    assertFalse(Files.exists(marker));
  }

  /**
   * Outside the state dict, unknown objects are kept as inert data; a global that unpickles its
   * argument (here torch.storage._load_from_bytes over a pickle calling os.system) is refused there too.
   */
  @Test
  void loadFromBytesIsRefusedOutsideTheStateDict() throws IOException {
    Path checkpoint = Fixtures.testdata().resolve("bad/pickle-load-from-bytes-optimizer.pt");
    try (RandomAccessInput in = RandomAccessInputs.open(checkpoint.toString())) {
      String message = assertThrows(IOException.class, () -> new TorchCheckpointReader().index(in)).getMessage();
      assertEquals(checkpoint + " (data.pkl) at byte 251: refers to torch.storage._load_from_bytes, which can run"
          + " code: refusing this pickle (nothing was executed)", message);
    }
  }

  @Test
  void anObjectOfAnotherGlobalInTheStateDictIsAnErrorNamingItsKey() throws IOException {
    assertEquals(
        file("torch/counter_in_state_dict.pt") + ": state dict entry ['state_dict']['counts'] is a"
            + " collections.Counter object; only tensors and plain values are allowed in a state dict, and"
            + " collections.Counter is not on the allowlist",
        indexError("torch/counter_in_state_dict.pt"));
  }

  @Test
  void aViewReachingPastItsStorageIsAnError() throws IOException {
    assertEquals(
        file("torch/storage_too_small.pt") + ": tensor 'w' (shape [2, 2], stride [2, 1], offset 1) reaches"
            + " element 4, but its storage '0' has only 4 elements",
        indexError("torch/storage_too_small.pt"));
  }

  @Test
  void aMissingStorageEntryIsAnError() throws IOException {
    assertEquals(
        file("torch/missing_storage_entry.pt") + ": tensor 'w' uses storage '0', but the archive has no entry"
            + " 'archive/data/0'",
        indexError("torch/missing_storage_entry.pt"));
  }

  @Test
  void aStorageEntryOfTheWrongSizeIsAnError() throws IOException {
    assertEquals(
        file("torch/storage_size_mismatch.pt") + ": storage '0' of tensor 'w' declares 4 F16 elements, but its"
            + " entry 'archive/data/0' has 6 bytes",
        indexError("torch/storage_size_mismatch.pt"));
  }

  @Test
  void aCompressedStorageIsAnErrorNamingTheEntry() throws IOException {
    String message = indexError("torch/compressed_entry.pt");
    assertTrue(message.startsWith(file("torch/compressed_entry.pt") + ": entry 'archive/data/0' is compressed"), message);
  }

  private static String file(String resource) {
    return Fixtures.resource(RESOURCES + resource).toString();
  }

  private static String indexError(String resource) throws IOException {
    try (RandomAccessInput in = RandomAccessInputs.open(file(resource))) {
      return assertThrows(IOException.class, () -> new TorchCheckpointReader().index(in)).getMessage();
    }
  }

  /** For each key, all keys on its storage (the expected files link each later key to the first one). */
  private static Map<String, List<String>> sharingGroups(JsonNode tensors) {
    Map<String, List<String>> groups = new LinkedHashMap<>();
    tensors.fields().forEachRemaining(e -> {
      JsonNode first = e.getValue().get("shares_storage_with");
      List<String> group = first == null ? new ArrayList<>() : groups.get(first.asText());
      group.add(e.getKey());
      groups.put(e.getKey(), group);
    });
    return groups;
  }

  private static List<Long> longs(JsonNode array) {
    List<Long> values = new ArrayList<>();
    array.forEach(n -> values.add(n.asLong()));
    return values;
  }

  private static String sha256(RandomAccessInput in, List<ByteRange> ranges) throws IOException {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), digest)) {
        new RangeCopier(1 << 10).copy(in, ranges, out);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Remembers where each read went, to show indexing never touches a storage's bytes. */
  private static final class RecordingInput extends ForwardingRandomAccessInput {
    private final List<ByteRange> reads = new ArrayList<>();

    RecordingInput(RandomAccessInput delegate) {
      super(delegate);
    }

    @Override
    public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
      reads.add(new ByteRange(path(), position, length));
      super.readFully(position, buffer, offset, length);
    }
  }
}
