package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.DtypeConversions;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.safetensors.SafetensorsHeader;
import org.sat2diffusers.io.safetensors.TensorSpec;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 8, LoRA as an adapter: {@code --lora-mode adapter|both} writes SAT's lora2 matrices as a
 * Diffusers LoRA file whose metadata carries SAT's strength, and {@code merge-lora} merges such a file
 * into a Diffusers folder; merging the exported adapter gives the SAT merge (within 1 ulp).
 */
class LoraAdapterTest {
  private static final String ADAPTER = "transformer/pytorch_lora_weights.safetensors";
  private static final int RANK = 4;

  @TempDir Path tmp;

  /** The LoRA fixtures, each with its SAT alpha. */
  enum LoraCase {
    ALPHA1(FixtureConversion.LORA_ALPHA1, 1),
    ALPHA4(FixtureConversion.LORA_ALPHA4, 4),
    V15_I2V(FixtureConversion.V15_I2V_LORA, 1);

    final FixtureConversion conversion;
    final double alpha;

    LoraCase(FixtureConversion conversion, double alpha) {
      this.conversion = conversion;
      this.alpha = alpha;
    }

    Object[] arguments(Path output, String... more) {
      List<Object> args = new ArrayList<>(List.of(conversion.arguments(output)));
      args.addAll(List.of(more));
      return args.toArray();
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LoraCase.class)
  void adapterHoldsSatMatricesUnderDiffusersKeysWithSatStrength(LoraCase c) throws Exception {
    Path out = tmp.resolve("adapter");
    CliRun.run(c.arguments(out, "--lora-mode", "adapter")).assertSucceeded();

    Map<String, SafetensorsEntry> entries = new LinkedHashMap<>();
    Map<String, byte[]> bytes = new LinkedHashMap<>();
    Map<String, String> metadata = read(out.resolve(ADAPTER), entries, bytes);
    Map<String, JsonNode> source = sourceTensors(c.conversion);
    int layers = (int) source.keySet().stream().filter(k -> k.endsWith("query_key_value.original.weight")).count();
    assertTrue(layers > 0);
    TreeSet<String> expectedKeys = new TreeSet<>();
    for (int i = 0; i < layers; i++) {
      String sat = "model.diffusion_model.transformer.layers." + i + ".attention.";
      String[][] modules = {{"to_q", "query_key_value", "0"}, {"to_k", "query_key_value", "1"},
          {"to_v", "query_key_value", "2"}, {"to_out.0", "dense", "0"}};
      for (String[] m : modules) {
        String key = "transformer.transformer_blocks." + i + ".attn1." + m[0];
        expectedKeys.add(key + ".lora_A.weight");
        expectedKeys.add(key + ".lora_B.weight");
        assertMatrix(entries, bytes, key + ".lora_A.weight", source.get(sat + m[1] + ".matrix_A." + m[2]));
        assertMatrix(entries, bytes, key + ".lora_B.weight", source.get(sat + m[1] + ".matrix_B." + m[2]));
        assertEquals(List.of((long) RANK, 16L), entries.get(key + ".lora_A.weight").shape());
        assertEquals(List.of(16L, (long) RANK), entries.get(key + ".lora_B.weight").shape());
      }
    }
    assertEquals(expectedKeys, new TreeSet<>(entries.keySet()));

    assertEquals("pt", metadata.get("format"));
    JsonNode config = TestData.json(metadata.get("lora_adapter_metadata").getBytes());
    assertEquals(RANK, config.get("transformer.r").asInt());
    assertEquals(c.alpha, config.get("transformer.lora_alpha").asDouble(), "PEFT lora_alpha / r must be SAT's alpha / r");
    assertEquals("[\"to_k\",\"to_out.0\",\"to_q\",\"to_v\"]", config.get("transformer.target_modules").toString());
    assertTrue(metadata.get("lora_adapter_metadata").startsWith("{\n  \"transformer.alpha_pattern\": {},\n"),
        "json.dumps(indent=2, sort_keys=True) layout: " + metadata.get("lora_adapter_metadata"));

    JsonNode report = TestData.json(out.resolve("conversion_report.json"));
    assertEquals(c.alpha / RANK, report.path("lora_adapter").path("do_not_apply_again").asDouble());
    assertEquals(ADAPTER, report.path("lora_adapter").path("file").asText());

    // The transformer keeps the frozen weights: to_out.0 is SAT's dense.original.weight as it is.
    Map<String, ComponentWeights.WrittenTensor> transformer =
        ComponentWeights.read(out.resolve("transformer"), "diffusion_pytorch_model").tensors();
    assertEquals(source.get("model.diffusion_model.transformer.layers.0.attention.dense.original.weight")
        .get("sha256").asText(), transformer.get("transformer_blocks.0.attn1.to_out.0.weight").sha256());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LoraCase.class)
  void mergingTheExportedAdapterGivesTheSatMerge(LoraCase c) throws Exception {
    Path adapter = tmp.resolve("adapter");
    CliRun.run(c.arguments(adapter, "--lora-mode", "adapter")).assertSucceeded();
    assertMergesToExpected(c, adapter, adapter.resolve(ADAPTER));
  }

  @Test
  void foldedScaleSitsInBAndMergesTheSame() throws Exception {
    LoraCase c = LoraCase.ALPHA1;
    Path plain = tmp.resolve("plain");
    Path folded = tmp.resolve("folded");
    CliRun.run(c.arguments(plain, "--lora-mode", "adapter")).assertSucceeded();
    CliRun.run(c.arguments(folded, "--lora-mode", "adapter", "--lora-fold-scale")).assertSucceeded();
    Map<String, SafetensorsEntry> entries = new LinkedHashMap<>();
    Map<String, byte[]> plainBytes = new LinkedHashMap<>();
    Map<String, byte[]> foldedBytes = new LinkedHashMap<>();
    read(plain.resolve(ADAPTER), entries, plainBytes);
    Map<String, String> metadata = read(folded.resolve(ADAPTER), entries, foldedBytes);
    JsonNode config = TestData.json(metadata.get("lora_adapter_metadata").getBytes());
    assertEquals(RANK, config.get("transformer.lora_alpha").asInt(), "folded: lora_alpha = r (scale 1)");
    int checked = 0;
    for (String name : plainBytes.keySet()) {
      byte[] want = name.endsWith("lora_B.weight") ? times(plainBytes.get(name), (float) (c.alpha / RANK))
          : plainBytes.get(name);
      assertArrayEquals(want, foldedBytes.get(name), name);
      checked += name.endsWith("lora_B.weight") ? 1 : 0;
    }
    assertTrue(checked > 0);
    JsonNode report = TestData.json(folded.resolve("conversion_report.json"));
    assertTrue(report.path("lora_adapter").path("scale_folded_into_b").asBoolean());
    assertMergesToExpected(c, folded, folded.resolve(ADAPTER));
  }

  @Test
  void bothModeMergesAndExports() throws Exception {
    LoraCase c = LoraCase.ALPHA4;
    Path out = tmp.resolve("both");
    CliRun.run(c.arguments(out, "--lora-mode", "both")).assertSucceeded();
    assertEquals(List.of(), ExpectedTensors.mismatches(out, c.conversion.manifests().get(0)));
    assertTrue(Files.size(out.resolve(ADAPTER)) > 0);
  }

  /** A PEFT-style file (no prefix, no metadata, adapter_config.json beside it) into a sharded model folder. */
  @Test
  void peftFileWithAdapterConfigMergesIntoShardedFolder() throws Exception {
    LoraCase c = LoraCase.ALPHA1;
    Path sharded = tmp.resolve("sharded");
    CliRun.run(c.arguments(sharded, "--lora-mode", "adapter", "--max-shard-size", "4KB")).assertSucceeded();
    assertTrue(Files.exists(sharded.resolve("transformer/diffusion_pytorch_model.safetensors.index.json")));
    Path peft = tmp.resolve("peft");
    Files.createDirectories(peft);
    rewriteWithoutPrefix(sharded.resolve(ADAPTER), peft.resolve("adapter_model.safetensors"));
    Files.writeString(peft.resolve("adapter_config.json"),
        "{\"r\": 4, \"lora_alpha\": 1, \"target_modules\": [\"to_q\", \"to_k\", \"to_v\", \"to_out.0\"]}");
    Path merged = assertMergesToExpected(c, sharded, peft.resolve("adapter_model.safetensors"));
    try (Stream<Path> files = Files.list(sharded.resolve("transformer"))) {
      List<String> shards = files.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("diffusion_pytorch_model")).sorted().toList();
      try (Stream<Path> written = Files.list(merged.resolve("transformer"))) {
        assertEquals(shards, written.map(p -> p.getFileName().toString())
            .filter(n -> n.startsWith("diffusion_pytorch_model")).sorted().toList(), "same shard layout");
      }
    }
  }

  @Test
  void mergeWithoutAnyAlphaIsRefusedNamingTheFile() throws Exception {
    Path out = tmp.resolve("adapter");
    CliRun.run(LoraCase.ALPHA1.arguments(out, "--lora-mode", "adapter")).assertSucceeded();
    Path bare = tmp.resolve("bare.safetensors");
    rewriteWithoutPrefix(out.resolve(ADAPTER), bare);
    CliRun run = CliRun.run("merge-lora", "--model", out, "--lora", bare, "--output", tmp.resolve("m"));
    assertEquals(3, run.exitCode(), run.err());
    assertTrue(run.err().contains(bare.toString()) && run.err().contains("--lora-alpha"), run.err());
    CliRun conflict = CliRun.run("merge-lora", "--model", out, "--lora", out.resolve(ADAPTER), "--output",
        tmp.resolve("m2"), "--lora-alpha", "3");
    assertEquals(3, conflict.exitCode(), conflict.err());
    assertTrue(conflict.err().contains("conflicts"), conflict.err());
  }

  @Test
  void foldScaleWithoutAdapterIsAUsageError() {
    CliRun run = CliRun.run(LoraCase.ALPHA1.arguments(tmp.resolve("x"), "--lora-fold-scale"));
    assertEquals(2, run.exitCode(), run.err());
  }

  /** merge-lora into a copy of {@code converted}; the merged folder must match the SAT merge's manifest. */
  private Path assertMergesToExpected(LoraCase c, Path converted, Path lora) throws IOException {
    Path merged = tmp.resolve("merged-" + System.nanoTime());
    CliRun.run("merge-lora", "--model", converted, "--lora", lora, "--output", merged).assertSucceeded();
    for (String other : List.of("vae", "text_encoder")) { // merge-lora writes only the transformer
      if (Files.isDirectory(converted.resolve(other))) {
        TestPaths.copyTree(converted.resolve(other), merged.resolve(other));
      }
    }
    assertEquals(List.of(), ExpectedTensors.mismatches(merged, c.conversion.manifests().get(0)));
    assertTrue(Files.exists(merged.resolve("transformer/config.json")));
    return merged;
  }

  private static void assertMatrix(
      Map<String, SafetensorsEntry> entries, Map<String, byte[]> bytes, String name, JsonNode source) {
    assertTrue(entries.containsKey(name), "missing " + name);
    assertEquals(Dtype.BF16, entries.get(name).dtype(), name);
    assertEquals(source.get("sha256").asText(), TestData.sha256(bytes.get(name)), name + " is not SAT's matrix");
  }

  private static Map<String, JsonNode> sourceTensors(FixtureConversion c) {
    JsonNode tensors = TestData.json(c.sourceManifests().get(0)).get("tensors");
    Map<String, JsonNode> out = new LinkedHashMap<>();
    if (tensors.isArray()) {
      tensors.forEach(t -> out.put(t.get("key").asText(), t));
    } else {
      tensors.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue()));
    }
    return out;
  }

  private static Map<String, String> read(Path file, Map<String, SafetensorsEntry> entries, Map<String, byte[]> bytes)
      throws IOException {
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      SafetensorsFile st = SafetensorsFile.open(in);
      for (SafetensorsEntry e : st.entries()) {
        entries.put(e.name(), e);
        bytes.put(e.name(), st.readTensor(e.name()));
      }
      return st.metadata();
    }
  }

  /** bf16 values times a power of two: exact, so folding must give exactly these bytes. */
  private static byte[] times(byte[] bf16, float factor) {
    int n = bf16.length / 2;
    float[] values = new float[n];
    DtypeConversions.decode(Dtype.BF16, ByteBuffer.wrap(bf16), values, n);
    for (int i = 0; i < n; i++) {
      values[i] *= factor;
    }
    byte[] out = new byte[bf16.length];
    DtypeConversions.encode(Dtype.BF16, values, n, ByteBuffer.wrap(out));
    return out;
  }

  /** The same tensors with the {@code transformer.} prefix dropped and no LoRA metadata, as PEFT saves them. */
  private static void rewriteWithoutPrefix(Path from, Path to) throws IOException {
    Map<String, SafetensorsEntry> entries = new LinkedHashMap<>();
    Map<String, byte[]> bytes = new LinkedHashMap<>();
    read(from, entries, bytes);
    List<TensorSpec> specs = new ArrayList<>();
    Map<String, byte[]> renamed = new LinkedHashMap<>();
    for (SafetensorsEntry e : entries.values()) {
      String name = e.name().substring("transformer.".length());
      specs.add(new TensorSpec(name, e.dtype(), e.shape()));
      renamed.put(name, bytes.get(e.name()));
    }
    SafetensorsHeader header = SafetensorsHeader.plan(specs, Map.of());
    try (var out = Files.newOutputStream(to)) {
      out.write(header.bytes());
      for (SafetensorsEntry e : header.entries()) {
        out.write(renamed.get(e.name()));
      }
    }
  }
}
