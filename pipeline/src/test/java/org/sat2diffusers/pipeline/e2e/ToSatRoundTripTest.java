package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.adapter.PeftLoraConfig;

/**
 * Issue 16, the way back proved by round trips. Every SAT fixture goes SAT → Diffusers ({@code
 * convert}) → SAT ({@code to-sat}): every source tensor comes back bit for bit under its own key (the
 * released VAE's under {@code first_stage_model.}), but for what Diffusers keeps none of: the VAE's
 * {@code loss.*} (listed as not written) and CogVideoX-2B's sincos table, recomputed and compared with
 * SAT's own numbers (testdata/positions, made by SAT's numpy code) within 1 ulp. That SAT run then goes
 * SAT → Diffusers again ({@code convert --sat-config} of the written model_config.yaml) and every file's
 * tensors equal the first Diffusers folder's bit for bit. LoRA fixtures: merged weights round-trip; as
 * an adapter ({@code --lora-mode adapter} there, {@code --lora-rank 4} back) every lora2 matrix too.
 */
class ToSatRoundTripTest {
  private static final String SFT_GEOMETRY = String.join("\n",
      "model:",
      "  network_config:",
      "    params:",
      "      latent_height: 4",
      "      latent_width: 4",
      "      num_frames: 5",
      "      time_compressed_rate: 4",
      "      modules:",
      "        pos_embed_config:",
      "          target: dit_video_concat.Basic3DPositionEmbeddingMixin",
      "          params:",
      "            text_length: 3",
      "");
  private static final String POSITION_TABLE = "model.diffusion_model.mixins.pos_embed.pos_embedding";

  @TempDir Path tmp;

  /** A fixture converted forward one way, and how it comes back. */
  enum Trip {
    /** CogVideoX-2B, fp16, T5 with its tied embedding, VAE with loss.*; the 2B table's geometry from a SAT YAML (11 rows). */
    SFT(FixtureConversion.SFT_LATEST, List.of(), List.of(), "cogvideox-2b-sft/1000/mp_rank_00_model_states.pt"),
    /** The released layout: transformer and VAE files apart, a learned table; Diffusers shards with an index. */
    I2V_RELEASE(FixtureConversion.I2V_RELEASE, List.of("--max-shard-size", "20KB"), List.of(),
        "cogvideox-5b-i2v-release/transformer/1/mp_rank_00_model_states.pt", "cogvideox-5b-i2v-release/vae/3d-vae.pt"),
    /** CogVideoX-5B with SAT lora2, merged forward: the merged weights come back, and round-trip. */
    LORA_MERGED(FixtureConversion.LORA_ALPHA1, List.of(), List.of(), "cogvideox-5b-lora/200/mp_rank_00_model_states.pt"),
    /** The same exported as an adapter and written back as lora2: every source tensor, matrices included. */
    LORA_ADAPTER(FixtureConversion.LORA_ALPHA4, List.of("--lora-mode", "adapter"), List.of("--lora-rank", "4"),
        "cogvideox-5b-lora/200/mp_rank_00_model_states.pt"),
    /** CogVideoX1.5-5B-I2V (Linear patches, ofs embedding) with T5, LoRA merged. */
    V15_MERGED(FixtureConversion.V15_I2V_LORA, List.of(), List.of(), "cogvideox1.5-5b-i2v-lora/300/mp_rank_00_model_states.pt"),
    /** The same as an adapter and back as lora2. */
    V15_ADAPTER(FixtureConversion.V15_I2V_LORA, List.of("--lora-mode", "adapter"), List.of("--lora-rank", "4"),
        "cogvideox1.5-5b-i2v-lora/300/mp_rank_00_model_states.pt");

    final FixtureConversion forward;
    final List<String> forwardOptions;
    final List<String> backOptions;
    final List<String> sources;

    Trip(FixtureConversion forward, List<String> forwardOptions, List<String> backOptions, String... sources) {
      this.forward = forward;
      this.forwardOptions = forwardOptions;
      this.backOptions = backOptions;
      this.sources = List.of(sources);
    }

    boolean merged() {
      return backOptions.isEmpty() && name().contains("MERGED");
    }
  }

  @ParameterizedTest
  @EnumSource(Trip.class)
  void satToDiffusersToSatAndBack(Trip trip) throws IOException {
    Path diffusers = tmp.resolve("diffusers");
    Path satRun = tmp.resolve("sat-run");
    Path again = tmp.resolve("diffusers-again");
    List<Object> convert = new ArrayList<>(List.of(trip.forward.arguments(diffusers)));
    convert.addAll(trip.forwardOptions);
    if (trip == Trip.SFT) {
      Path yaml = Files.writeString(tmp.resolve("geometry.yaml"), SFT_GEOMETRY);
      convert.addAll(List.of("--sat-config", yaml));
    }
    CliRun.run(convert.toArray()).assertSucceeded();
    if (trip == Trip.I2V_RELEASE) {
      assertTrue(Files.exists(diffusers.resolve("transformer/diffusion_pytorch_model.safetensors.index.json")));
    }

    List<Object> back = new ArrayList<>(List.of("to-sat", "--source", diffusers, "--output", satRun, "--iteration", "7"));
    back.addAll(trip.backOptions);
    CliRun toSat = CliRun.run(back.toArray()).assertSucceeded().assertNoStackTrace();
    assertEquals("7", Files.readString(satRun.resolve("latest")));
    assertFalse(Files.exists(satRun.resolve(".sat2diffusers-staging")), "staging left behind");
    assertFalse(Files.exists(satRun.resolve(".sat2diffusers-lock")), "lock left behind");

    Map<String, Stored> written = read(satRun.resolve("7/mp_rank_00_model_states.pt"));
    Map<String, Stored> expected = new LinkedHashMap<>();
    for (String source : trip.sources) {
      boolean bareVae = source.endsWith("3d-vae.pt");
      read(TestPaths.sat(source)).forEach((k, v) -> expected.put(bareVae ? "first_stage_model." + k : k, v));
    }
    TreeSet<String> comeBack = new TreeSet<>();
    for (Map.Entry<String, Stored> e : expected.entrySet()) {
      String key = e.getKey();
      if (key.startsWith("first_stage_model.loss.")) {
        assertFalse(written.containsKey(key), key + " written");
        assertTrue(toSat.out().contains("not written first_stage_model.loss.*"), toSat.out());
        continue;
      }
      if (trip.merged() && (key.contains(".matrix_") || key.contains(".original."))) {
        continue; // merged forward: the lora2 module comes back as one merged weight, checked below
      }
      comeBack.add(key);
      Stored got = written.get(key);
      assertTrue(got != null, key + " did not come back; written: " + written.keySet());
      assertEquals(e.getValue().dtype(), got.dtype(), key);
      assertEquals(e.getValue().shape(), got.shape(), key);
      if (key.equals(POSITION_TABLE) && trip == Trip.SFT) {
        // the fixture's table is random numbers; SAT's own table is what comes back
        assertEquals(0, Ulps.maxDistance(satSincosFixtureGeometryF16(), got.bytes(), Dtype.F16),
            "recomputed table against SAT's numpy table");
        assertTrue(toSat.out().contains("recomputed " + POSITION_TABLE), toSat.out());
        continue;
      }
      assertArrayEquals(e.getValue().bytes(), got.bytes(), key + " is not the source's bytes");
    }
    TreeSet<String> extra = new TreeSet<>(written.keySet());
    extra.removeAll(comeBack);
    if (trip.merged()) {
      // each lora2 module is one merged weight: exactly the source's original.* keys without "original."
      TreeSet<String> mergedKeys = new TreeSet<>();
      expected.keySet().stream().filter(k -> k.contains(".original.")).forEach(k -> mergedKeys.add(k.replace(".original.", ".")));
      assertEquals(mergedKeys, extra, "keys written beyond the source's");
      for (String k : mergedKeys) { // their bytes: checked by the way back to Diffusers below (a permutation of rows)
        Stored original = expected.get(k.replace(".weight", ".original.weight").replace(".bias", ".original.bias"));
        assertEquals(original.dtype(), written.get(k).dtype(), k);
        assertEquals(original.shape(), written.get(k).shape(), k);
      }
    } else {
      assertEquals(new TreeSet<>(), extra, "keys written that the source does not have");
    }
    if (written.containsKey("conditioner.embedders.0.transformer.encoder.embed_tokens.weight")) {
      assertEquals(List.of("conditioner.embedders.0.transformer.shared.weight"),
          written.get("conditioner.embedders.0.transformer.encoder.embed_tokens.weight").sharedWith(),
          "T5's tied embedding is one storage again");
    }

    // Diffusers -> SAT -> Diffusers: every file's tensors, bit for bit
    List<Object> convertBack = new ArrayList<>(List.of("convert", "--source", satRun, "--output", again,
        "--sat-config", satRun.resolve("model_config.yaml")));
    convertBack.addAll(trip.forwardOptions);
    CliRun.run(convertBack.toArray()).assertSucceeded();
    for (String component : List.of("transformer", "vae", "text_encoder")) {
      Path first = diffusers.resolve(component);
      Path second = again.resolve(component);
      assertEquals(Files.isDirectory(first), Files.isDirectory(second), component);
      if (!Files.isDirectory(first)) {
        continue;
      }
      String stem = component.equals("text_encoder") ? "model" : "diffusion_pytorch_model";
      assertSameTensors(ComponentWeights.read(first, stem), ComponentWeights.read(second, stem), component);
      assertEquals(TestData.json(first.resolve("config.json")), TestData.json(second.resolve("config.json")),
          component + "/config.json");
    }
    Path adapter = Path.of("transformer", "pytorch_lora_weights.safetensors");
    assertEquals(Files.exists(diffusers.resolve(adapter)), Files.exists(again.resolve(adapter)), adapter.toString());
    if (Files.exists(diffusers.resolve(adapter))) {
      // the tensors and the strength; the provenance metadata names another source, as it should
      try (RandomAccessInput a = RandomAccessInputs.open(diffusers.resolve(adapter).toString());
          RandomAccessInput b = RandomAccessInputs.open(again.resolve(adapter).toString())) {
        SafetensorsFile first = SafetensorsFile.open(a);
        SafetensorsFile second = SafetensorsFile.open(b);
        assertEquals(first.entries().stream().map(e -> e.name() + e.dtype() + e.shape()).toList(),
            second.entries().stream().map(e -> e.name() + e.dtype() + e.shape()).toList(), "adapter tensors");
        for (var e : first.entries()) {
          assertArrayEquals(first.readTensor(e.name()), second.readTensor(e.name()), "adapter " + e.name());
        }
        assertEquals(first.metadata().get(PeftLoraConfig.METADATA_KEY), second.metadata().get(PeftLoraConfig.METADATA_KEY),
            "adapter strength");
      }
    }
  }

  @Test
  void aDryRunPlansAndWritesNothing() throws IOException {
    Path diffusers = tmp.resolve("diffusers");
    CliRun.run(FixtureConversion.V15_I2V_LORA.arguments(diffusers)).assertSucceeded();
    Path satRun = tmp.resolve("sat-run");
    CliRun run = CliRun.run("to-sat", "--source", diffusers, "--output", satRun, "--dry-run").assertSucceeded();
    assertFalse(Files.exists(satRun), "a dry run wrote " + satRun);
    assertTrue(run.out().contains("model.diffusion_model.transformer.layers.0.attention.query_key_value.weight BF16[48, 16]"
        + " <- 3 range(s) of transformer_blocks.0.attn1.to_q.weight, transformer_blocks.0.attn1.to_k.weight,"
        + " transformer_blocks.0.attn1.to_v.weight"), run.out());
    assertTrue(run.out().contains("conditioner.embedders.0.transformer.encoder.embed_tokens.weight BF16[40, 12] <- storage"
        + " of conditioner.embedders.0.transformer.shared.weight"), run.out());
    assertTrue(run.out().contains("not written model.diffusion_model.mixins.pos_embed.freqs_sin"), run.out());
  }

  @Test
  void refusesAnOutputInsideTheSourceAndAnExistingIteration() throws IOException {
    Path diffusers = tmp.resolve("diffusers");
    CliRun.run(FixtureConversion.I2V_RELEASE.arguments(diffusers)).assertSucceeded();
    CliRun inside = CliRun.run("to-sat", "--source", diffusers, "--output", diffusers.resolve("sat"));
    assertEquals(2, inside.exitCode(), inside.err());
    assertTrue(inside.err().contains("is inside source"), inside.err());
    assertFalse(Files.exists(diffusers.resolve("sat")));

    Path satRun = tmp.resolve("sat-run");
    CliRun.run("to-sat", "--source", diffusers, "--output", satRun).assertSucceeded();
    byte[] before = Files.readAllBytes(satRun.resolve("1/mp_rank_00_model_states.pt"));
    CliRun twice = CliRun.run("to-sat", "--source", diffusers, "--output", satRun);
    assertEquals(2, twice.exitCode(), twice.err());
    assertTrue(twice.err().contains("already has iteration 1"), twice.err());
    assertArrayEquals(before, Files.readAllBytes(satRun.resolve("1/mp_rank_00_model_states.pt")));
  }

  @Test
  void anAdapterWithoutLoraRankIsRefusedNamingTheWayOut() throws IOException {
    Path diffusers = tmp.resolve("diffusers");
    List<Object> args = new ArrayList<>(List.of(FixtureConversion.LORA_ALPHA1.arguments(diffusers)));
    args.addAll(List.of("--lora-mode", "adapter"));
    CliRun.run(args.toArray()).assertSucceeded();
    CliRun plain = CliRun.run("to-sat", "--source", diffusers, "--output", tmp.resolve("a"));
    assertEquals(3, plain.exitCode(), plain.err());
    assertTrue(plain.err().contains("give --lora-rank R") && plain.err().contains("merge-lora"), plain.err());
    CliRun wrongRank = CliRun.run("to-sat", "--source", diffusers, "--output", tmp.resolve("b"), "--lora-rank", "8");
    assertEquals(3, wrongRank.exitCode(), wrongRank.err());
    assertTrue(wrongRank.err().contains("are not a rank-8 pair"), wrongRank.err());
    assertFalse(Files.exists(tmp.resolve("a")) || Files.exists(tmp.resolve("b")), "a refused run wrote something");
  }

  @Test
  void castingOnTheWayBackIsCastingOnTheWayThere() throws IOException {
    // fp16 -> bf16 through fp32 is one rounding whichever side does it: SAT -> Diffusers -> SAT(bf16) -> Diffusers
    // equals SAT -> Diffusers(bf16), tensor for tensor
    Path kept = tmp.resolve("kept");
    Path cast = tmp.resolve("cast");
    Path satRun = tmp.resolve("sat-bf16");
    Path again = tmp.resolve("again");
    CliRun.run(FixtureConversion.SFT_LATEST.arguments(kept)).assertSucceeded();
    CliRun.run(FixtureConversion.SFT_BF16.arguments(cast)).assertSucceeded();
    CliRun.run("to-sat", "--source", kept, "--output", satRun, "--dtype", "bf16").assertSucceeded();
    Map<String, Stored> written = read(satRun.resolve("1/mp_rank_00_model_states.pt"));
    assertEquals(Dtype.BF16, written.get("model.diffusion_model.mixins.patch_embed.proj.weight").dtype());
    assertEquals(Dtype.BF16, written.get(POSITION_TABLE).dtype(), "the recomputed table in the model's dtype");
    assertEquals(Dtype.F32, written.get("first_stage_model.encoder.conv_in.conv.weight").dtype(), "the VAE keeps fp32");
    CliRun.run("convert", "--source", satRun, "--output", again, "--sat-config", satRun.resolve("model_config.yaml"))
        .assertSucceeded();
    for (String component : List.of("transformer", "vae", "text_encoder")) {
      String stem = component.equals("text_encoder") ? "model" : "diffusion_pytorch_model";
      assertSameTensors(ComponentWeights.read(cast.resolve(component), stem),
          ComponentWeights.read(again.resolve(component), stem), component);
    }
  }

  @Test
  void aTruncatedWeightFileIsRefusedNamingItAndNothingIsWritten() throws IOException {
    Path diffusers = tmp.resolve("diffusers");
    CliRun.run(FixtureConversion.I2V_RELEASE.arguments(diffusers)).assertSucceeded();
    Path weights = diffusers.resolve("vae/diffusion_pytorch_model.safetensors");
    byte[] bytes = Files.readAllBytes(weights);
    Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length - 100));
    Path satRun = tmp.resolve("sat-run");
    CliRun run = CliRun.run("to-sat", "--source", diffusers, "--output", satRun).assertNoStackTrace();
    assertEquals(3, run.exitCode(), run.err());
    assertTrue(run.err().contains(weights.toString()), run.err());
    assertFalse(Files.exists(satRun), "a refused source wrote " + satRun);
  }

  private static void assertSameTensors(ComponentWeights first, ComponentWeights second, String component) {
    assertEquals(first.tensors().keySet(), second.tensors().keySet(), component + ": tensor names");
    first.tensors().forEach((name, t) -> {
      ComponentWeights.WrittenTensor u = second.tensors().get(name);
      assertEquals(t.dtype(), u.dtype(), component + " " + name);
      assertEquals(t.shape(), u.shape(), component + " " + name);
      assertArrayEquals(t.bytes(), u.bytes(), component + " " + name + " differs after Diffusers -> SAT -> Diffusers");
    });
  }

  /** A tensor of a torch checkpoint: dtype, shape, bytes, the keys sharing its storage. */
  private record Stored(Dtype dtype, List<Long> shape, byte[] bytes, List<String> sharedWith) {}

  private static Map<String, Stored> read(Path file) throws IOException {
    Map<String, Stored> out = new LinkedHashMap<>();
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      CheckpointIndex index = new TorchCheckpointReader().index(in);
      for (TensorRecord t : index.tensors()) {
        assertTrue(t.contiguous(), file + " " + t.key() + " is not contiguous");
        byte[] bytes = new byte[Math.toIntExact(t.byteLength())];
        in.readFully(t.fileOffset(), bytes, 0, bytes.length);
        out.put(t.key(), new Stored(t.dtype(), t.shape(), bytes, t.sharedWith()));
      }
    }
    return out;
  }

  /** SAT's table for the 2B fixture's geometry, as SAT's numpy code makes it (testdata/positions/make_sincos.py). */
  private static byte[] satSincosFixtureGeometryF16() {
    JsonNode first = TestData.json(TestPaths.testdata().resolve("positions/sat_sincos.json")).get(0);
    assertEquals(16, first.get("hidden").asInt());
    assertEquals(11, first.get("rows").asInt());
    return HexFormat.of().parseHex(first.get("f16").asText());
  }
}
