package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.pipeline.e2e.ComponentWeights.WrittenTensor;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.records.Component;

/**
 * Issue "Conversion", end to end: every fixture converted by the command line, in process, with
 * the arguments of fixtures.sh; the folders it writes checked against testdata/expected. Each
 * conversion runs once and is shared by all the checks of this class.
 */
class FixtureConversionTest {
  private static final List<String> TRANSFORMER_FIELDS = List.of("num_layers", "num_attention_heads",
      "attention_head_dim", "in_channels", "out_channels", "time_embed_dim", "text_embed_dim", "patch_size",
      "patch_size_t", "ofs_embed_dim", "use_rotary_positional_embeddings", "use_learned_positional_embeddings");
  private static final List<String> VAE_FIELDS =
      List.of("block_out_channels", "latent_channels", "layers_per_block", "in_channels", "out_channels");
  private static final Map<Component, List<String>> LIBRARY_AND_CLASS = Map.of(
      Component.TRANSFORMER, List.of("diffusers", "CogVideoXTransformer3DModel"),
      Component.VAE, List.of("diffusers", "AutoencoderKLCogVideoX"),
      Component.TEXT_ENCODER, List.of("transformers", "T5EncoderModel"));

  @TempDir static Path work;
  private static final Map<FixtureConversion, Path> outputs = new EnumMap<>(FixtureConversion.class);
  private static Map<Path, String> sourcesBefore;

  @BeforeAll
  static void snapshotSources() throws IOException {
    sourcesBefore = sourceFingerprints();
  }

  /** The conversion's output folder, converting at the first call. */
  private static Path converted(FixtureConversion conversion) {
    return outputs.computeIfAbsent(conversion, c -> {
      Path out = work.resolve(c.name());
      CliRun.run(c.arguments(out)).assertSucceeded();
      return out;
    });
  }

  static Stream<Arguments> manifests() {
    return Stream.of(FixtureConversion.values()).flatMap(c -> c.manifests().stream()
        .map(m -> Arguments.of(c, Named.of(m.getFileName().toString(), m))));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("manifests")
  void writesTheExpectedTensors(FixtureConversion conversion, Path manifest) throws IOException {
    List<String> mismatches = ExpectedTensors.mismatches(converted(conversion), manifest);
    assertEquals(List.of(), mismatches.subList(0, Math.min(20, mismatches.size())),
        mismatches.size() + " tensors differ from " + manifest);
  }

  @ParameterizedTest
  @EnumSource(FixtureConversion.class)
  void configsAgreeWithDiffusersOnWhatTheTensorsDetermine(FixtureConversion conversion) {
    Path out = converted(conversion);
    Map<Component, List<String>> fields = Map.of(Component.TRANSFORMER, TRANSFORMER_FIELDS, Component.VAE, VAE_FIELDS);
    int compared = 0;
    for (Component c : producedComponents(conversion)) {
      Path expectedConfig = TestPaths.expected(conversion.fixture()).resolve(c.folder() + ".config.json");
      if (!fields.containsKey(c) || !Files.exists(expectedConfig)) {
        continue;
      }
      JsonNode expected = TestData.json(expectedConfig);
      JsonNode written = TestData.json(out.resolve(c.folder()).resolve("config.json"));
      for (String field : fields.get(c)) {
        assertEquals(expected.path(field), written.path(field), c.folder() + "/config.json: " + field);
      }
      compared++;
    }
    assertTrue(compared > 0, "no Diffusers config of " + conversion.fixture() + " to compare with");
  }

  @ParameterizedTest
  @EnumSource(FixtureConversion.class)
  void pipelineFilesNameTheirClasses(FixtureConversion conversion) {
    Path out = converted(conversion);
    JsonNode modelIndex = TestData.json(out.resolve("model_index.json"));
    assertEquals(conversion.pipelineClass(), modelIndex.path("_class_name").asText(), "model_index.json _class_name");
    assertEquals(List.of("diffusers", "CogVideoXDDIMScheduler"), strings(modelIndex.path("scheduler")), "model_index.json scheduler");
    assertEquals("CogVideoXDDIMScheduler",
        TestData.json(out.resolve("scheduler/scheduler_config.json")).path("_class_name").asText(), "scheduler_config.json");
    Set<Component> produced = producedComponents(conversion);
    for (Component c : Component.values()) {
      if (!produced.contains(c)) {
        assertFalse(Files.exists(out.resolve(c.folder())), c.folder() + "/ written for a checkpoint without that component");
        assertTrue(modelIndex.path(c.folder()).isMissingNode() || strings(modelIndex.get(c.folder())).stream().allMatch(s -> s == null),
            "model_index.json names an absent " + c.folder() + ": " + modelIndex.get(c.folder()));
        continue;
      }
      List<String> libraryAndClass = LIBRARY_AND_CLASS.get(c);
      assertEquals(libraryAndClass, strings(modelIndex.path(c.folder())), "model_index.json " + c.folder());
      JsonNode config = TestData.json(out.resolve(c.folder()).resolve("config.json"));
      if (c == Component.TEXT_ENCODER) { // transformers names the class in "architectures"
        assertEquals(List.of("T5EncoderModel"), strings(config.path("architectures")), "text_encoder/config.json architectures");
        assertEquals("t5", config.path("model_type").asText(), "text_encoder/config.json model_type");
      } else {
        assertEquals(libraryAndClass.get(1), config.path("_class_name").asText(), c.folder() + "/config.json _class_name");
      }
    }
  }

  @ParameterizedTest
  @EnumSource(FixtureConversion.class)
  void reportGivesEverySourceKeyExactlyOneFate(FixtureConversion conversion) {
    JsonNode report = TestData.json(converted(conversion).resolve("conversion_report.json"));
    Map<String, Integer> sourceKeys = new TreeMap<>();
    for (Path manifest : conversion.sourceManifests()) {
      TestData.json(manifest).get("tensors").fieldNames().forEachRemaining(k -> sourceKeys.merge(k, 1, Integer::sum));
    }
    Map<String, Integer> reported = new TreeMap<>();
    Map<String, Set<String>> outputsPerComponent = new TreeMap<>();
    for (JsonNode entry : report.get("source_keys")) {
      String key = entry.path("key").asText();
      reported.merge(key, 1, Integer::sum);
      assertFalse(entry.path("fate").asText().isEmpty(), "conversion_report.json: no fate for " + key);
      entry.path("outputs").forEach(o -> outputsPerComponent
          .computeIfAbsent(entry.path("component").asText(), c -> new TreeSet<>()).add(o.asText()));
    }
    assertEquals(sourceKeys, reported, "conversion_report.json source_keys: each source key once");

    Map<String, Set<String>> expectedOutputs = new TreeMap<>();
    for (Path manifest : conversion.manifests()) {
      JsonNode expected = TestData.json(manifest);
      for (Component c : ExpectedTensors.components(manifest)) {
        expected.get(c.folder()).fieldNames()
            .forEachRemaining(k -> expectedOutputs.computeIfAbsent(c.folder(), x -> new TreeSet<>()).add(k));
      }
    }
    assertEquals(expectedOutputs, outputsPerComponent, "conversion_report.json: the outputs the source keys went to");
  }

  /** With --digest sha256 the report's tensor digests are the expected tensors' own sha256. */
  @Test
  void sha256DigestsInTheReportAreTheExpectedTensorsSha256() throws IOException {
    Path out = work.resolve("sha256");
    CliRun.run("convert", "--source", TestPaths.sat("cogvideox-2b-sft"), "--output", out, "--digest", "sha256")
        .assertSucceeded();
    JsonNode expected = TestData.json(TestPaths.expected("cogvideox-2b-sft/1000.json"));
    Map<String, String> reported = new TreeMap<>();
    TestData.json(out.resolve("conversion_report.json")).get("written_files").forEach(f -> {
      String folder = f.path("path").asText().split("/")[0];
      f.path("tensor_sha256").fields().forEachRemaining(t -> reported.put(folder + "/" + t.getKey(), t.getValue().asText()));
    });
    Map<String, String> wanted = new TreeMap<>();
    for (String folder : List.of("transformer", "vae", "text_encoder")) {
      expected.get(folder).fields().forEachRemaining(t -> wanted.put(folder + "/" + t.getKey(), t.getValue().get("sha256").asText()));
    }
    assertEquals(wanted, reported);
  }

  @ParameterizedTest
  @EnumSource(FixtureConversion.class)
  void reportListsEveryWrittenFileWithItsSizeAndDigests(FixtureConversion conversion) throws IOException {
    Path out = converted(conversion);
    JsonNode report = TestData.json(out.resolve("conversion_report.json"));
    Map<String, JsonNode> listed = new TreeMap<>();
    report.get("written_files").forEach(f -> listed.put(f.path("path").asText(), f));
    Digest digest = Digest.CRC32C; // the default
    String tensorKey = "tensor_" + digest.label();
    String headerKey = "header_" + digest.label();
    Set<String> weightFiles = new TreeSet<>();
    for (Component c : producedComponents(conversion)) {
      ComponentWeights weights = ComponentWeights.read(out.resolve(c.folder()), c.fileStem());
      weights.files().forEach(f -> weightFiles.add(c.folder() + "/" + f));
      for (Map.Entry<String, WrittenTensor> t : weights.tensors().entrySet()) {
        JsonNode entry = listed.get(c.folder() + "/" + t.getValue().file());
        assertEquals(digest.of(t.getValue().bytes()), entry == null ? null : entry.path(tensorKey).path(t.getKey()).asText(),
            "conversion_report.json: " + tensorKey + " of " + t.getKey());
      }
    }
    assertEquals(weightFiles, listed.keySet(), "conversion_report.json written_files");
    for (Map.Entry<String, JsonNode> f : listed.entrySet()) {
      Path file = out.resolve(f.getKey());
      assertEquals(Files.size(file), f.getValue().path("bytes").asLong(), f.getKey() + ": bytes in the report");
      byte[] bytes = Files.readAllBytes(file);
      long dataStart = 8 + ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
      assertEquals(digest.of(Arrays.copyOf(bytes, (int) dataStart)), f.getValue().path(headerKey).asText(),
          f.getKey() + ": " + headerKey + " in the report");
    }
  }

  @ParameterizedTest
  @EnumSource(FixtureConversion.class)
  void successMarkerIsWrittenLast(FixtureConversion conversion) throws IOException {
    Path out = converted(conversion);
    Path marker = out.resolve("_SUCCESS");
    assertTrue(Files.exists(marker), "no _SUCCESS in " + out);
    assertEquals(conversion.iteration, TestData.json(marker).path("iteration").asText(), "_SUCCESS iteration");
    FileTime committed = Files.getLastModifiedTime(marker);
    try (Stream<Path> files = Files.walk(out)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        assertTrue(Files.getLastModifiedTime(file).compareTo(committed) <= 0, file + " was written after _SUCCESS");
      }
    }
  }

  @ParameterizedTest
  @EnumSource(FixtureConversion.class)
  void outputHoldsThePipelineFolderReportAndMarkerOnly(FixtureConversion conversion) throws IOException {
    Path out = converted(conversion);
    Set<String> expected = new TreeSet<>(List.of("model_index.json", "scheduler", "conversion_report.json", "_SUCCESS"));
    producedComponents(conversion).forEach(c -> expected.add(c.folder()));
    try (Stream<Path> entries = Files.list(out)) {
      assertEquals(expected, new TreeSet<>(entries.map(p -> p.getFileName().toString()).toList()), "entries of " + out);
    }
    try (Stream<Path> entries = Files.list(out.resolve("scheduler"))) {
      assertEquals(List.of("scheduler_config.json"), entries.map(p -> p.getFileName().toString()).toList());
    }
  }

  /**
   * The comparison itself: in a copy of the LoRA output, a merged tensor one ulp off still matches,
   * two ulps off does not, and one changed byte of a plain tensor is caught.
   */
  @Test
  void comparisonToleratesOneUlpOnMergedTensorsAndNothingElse() throws IOException {
    FixtureConversion lora = FixtureConversion.LORA_ALPHA1;
    Path manifest = lora.manifests().get(0);
    Path copy = TestPaths.copyTree(converted(lora), work.resolve("tampered"));
    JsonNode expected = TestData.json(manifest).get("transformer");
    String merged = firstKey(expected, true);
    String plain = firstKey(expected, false);
    Path file = copy.resolve("transformer/diffusion_pytorch_model.safetensors");
    long mergedAt = offset(file, merged);
    byte[] mergedBytes = Base64.getDecoder().decode(expected.get(merged).path("b64").asText());

    overwrite(file, mergedAt, nudged(mergedBytes, 1));
    assertEquals(List.of(), ExpectedTensors.mismatches(copy, manifest), "one ulp off");
    overwrite(file, mergedAt, nudged(mergedBytes, 2));
    assertEquals(List.of("transformer: " + merged + ": LoRA merge off by 2 ulp"), ExpectedTensors.mismatches(copy, manifest));
    overwrite(file, mergedAt, mergedBytes);
    long plainAt = offset(file, plain);
    overwrite(file, plainAt, new byte[] {(byte) (Files.readAllBytes(file)[(int) plainAt] ^ 1)});
    List<String> mismatches = ExpectedTensors.mismatches(copy, manifest);
    assertEquals(1, mismatches.size(), mismatches.toString());
    assertTrue(mismatches.get(0).startsWith("transformer: " + plain + ": sha256 "), mismatches.get(0));
  }

  private static String firstKey(JsonNode component, boolean merged) {
    List<String> names = new ArrayList<>();
    component.fields().forEachRemaining(f -> {
      if (f.getValue().has("b64") == merged) {
        names.add(f.getKey());
      }
    });
    return names.get(0);
  }

  private static long offset(Path file, String tensor) throws IOException {
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      return SafetensorsFile.open(in).entry(tensor).offset();
    }
  }

  /**
   * The first element of 16-bit floats (the LoRA fixture is bf16) moved {@code ulps} places away from
   * zero: in sign-magnitude, each step of the bit pattern is one ulp, whatever the sign.
   */
  private static byte[] nudged(byte[] halves, int ulps) {
    byte[] copy = halves.clone();
    ByteBuffer b = ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort(0, (short) (b.getShort(0) + ulps));
    return copy;
  }

  private static void overwrite(Path file, long position, byte[] bytes) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.write(ByteBuffer.wrap(bytes), position);
    }
  }

  @Test
  void sourcesAreUntouched() throws IOException {
    for (FixtureConversion c : FixtureConversion.values()) {
      converted(c);
    }
    assertEquals(sourcesBefore, sourceFingerprints(), "testdata/sat/ after converting every fixture");
  }

  /** Per file under testdata/sat/: its sha256 and modification time. */
  private static Map<Path, String> sourceFingerprints() throws IOException {
    Map<Path, String> fingerprints = new HashMap<>();
    try (Stream<Path> files = Files.walk(TestPaths.sat())) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        fingerprints.put(file, TestData.sha256(file) + " modified " + Files.getLastModifiedTime(file));
      }
    }
    return fingerprints;
  }

  private static Set<Component> producedComponents(FixtureConversion conversion) {
    Set<Component> components = new LinkedHashSet<>();
    conversion.manifests().forEach(m -> components.addAll(ExpectedTensors.components(m)));
    return components;
  }

  private static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    array.forEach(v -> values.add(v.isNull() ? null : v.asText()));
    return values;
  }
}
