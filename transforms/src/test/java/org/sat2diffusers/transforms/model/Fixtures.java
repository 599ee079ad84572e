package org.sat2diffusers.transforms.model;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.sat2diffusers.transforms.records.Component;

/** The shared fixtures (testdata/) and this module's test resources, as the shapes and configs these tests need. */
public final class Fixtures {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One fixture: the expected outputs of a conversion and the source file they come from. */
  public enum Case {
    SFT_2B("cogvideox-2b-sft", "1000.json", "cogvideox-2b-sft/1000/mp_rank_00_model_states.json",
        ModelFamily.COGVIDEOX_2B),
    SFT_2B_500("cogvideox-2b-sft", "500.json", "cogvideox-2b-sft/500/mp_rank_00_model_states.json",
        ModelFamily.COGVIDEOX_2B),
    LORA_5B("cogvideox-5b-lora", "200.alpha1.json", "cogvideox-5b-lora/200/mp_rank_00_model_states.json",
        ModelFamily.COGVIDEOX_5B),
    I2V_RELEASE_TRANSFORMER("cogvideox-5b-i2v-release", "transformer.json",
        "cogvideox-5b-i2v-release/transformer/1/mp_rank_00_model_states.json", ModelFamily.COGVIDEOX_5B_I2V),
    I2V_RELEASE_VAE("cogvideox-5b-i2v-release", "vae.json", "cogvideox-5b-i2v-release/vae/3d-vae.json",
        ModelFamily.COGVIDEOX_5B_I2V),
    V15_I2V_LORA("cogvideox1.5-5b-i2v-lora", "300.alpha1.json",
        "cogvideox1.5-5b-i2v-lora/300/mp_rank_00_model_states.json", ModelFamily.COGVIDEOX1_5_5B_I2V);

    public final String fixture;
    public final String expectedFile;
    public final String sourceFile;
    public final ModelFamily family;

    Case(String fixture, String expectedFile, String sourceFile, ModelFamily family) {
      this.fixture = fixture;
      this.expectedFile = expectedFile;
      this.sourceFile = sourceFile;
      this.family = family;
    }

    /** The component's output tensors: key to shape, in the file's order; empty when it has none. */
    public Optional<Map<String, List<Long>>> shapes(Component component) {
      Map<String, Object> all = readJson(testdata().resolve("expected").resolve(fixture).resolve(expectedFile));
      @SuppressWarnings("unchecked")
      Map<String, Map<String, Object>> tensors = (Map<String, Map<String, Object>>) all.get(component.folder());
      if (tensors == null) {
        return Optional.empty();
      }
      Map<String, List<Long>> shapes = new LinkedHashMap<>();
      tensors.forEach((k, v) -> shapes.put(k, longs(v.get("shape"))));
      return Optional.of(shapes);
    }

    /**
     * The transformer's tensors as detection sees them: the outputs plus the position table of the
     * source (SAT {@code mixins.pos_embed.pos_embedding}) when the conversion dropped it.
     */
    public Map<String, List<Long>> transformerBeforeTableDrop() {
      Map<String, List<Long>> shapes = new LinkedHashMap<>(shapes(Component.TRANSFORMER).orElseThrow());
      Map<String, Object> source = readJson(testdata().resolve("expected/source").resolve(sourceFile));
      @SuppressWarnings("unchecked")
      Map<String, Map<String, Object>> tensors = (Map<String, Map<String, Object>>) source.get("tensors");
      Map<String, Object> table = tensors.get("model.diffusion_model.mixins.pos_embed.pos_embedding");
      if (table != null) {
        shapes.putIfAbsent("patch_embed.pos_embedding", longs(table.get("shape")));
      }
      return shapes;
    }

    /** The config Diffusers wrote for the fixture's model ({@code transformer} or {@code vae}). */
    public Map<String, Object> expectedConfig(Component component) {
      return readJson(testdata().resolve("expected").resolve(fixture).resolve(component.folder() + ".config.json"));
    }
  }

  private Fixtures() {}

  /** testdata/, from the {@code testdata.dir} property Surefire sets, else found walking up from the working dir. */
  public static Path testdata() {
    String property = System.getProperty("testdata.dir");
    if (property != null && Files.isDirectory(Paths.get(property))) {
      return Paths.get(property);
    }
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("testdata/sat"))) {
        return dir.resolve("testdata");
      }
    }
    throw new IllegalStateException("no testdata/ above " + Paths.get("").toAbsolutePath() + ": set -Dtestdata.dir");
  }

  public static Map<String, Object> readJson(Path file) {
    try {
      return JSON.readValue(file.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException(file.toString(), e);
    }
  }

  public static JsonNode readTree(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(file.toString(), e);
    }
  }

  /** A test resource as text. */
  public static String resource(String name) {
    try (var in = Fixtures.class.getResourceAsStream("/" + name)) {
      if (in == null) {
        throw new IllegalStateException("no test resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(name, e);
    }
  }

  /** A JSON test resource as a map. */
  public static Map<String, Object> jsonResource(String name) {
    try {
      return JSON.readValue(resource(name), new TypeReference<LinkedHashMap<String, Object>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException(name, e);
    }
  }

  private static List<Long> longs(Object shape) {
    return ((List<?>) shape).stream().map(d -> ((Number) d).longValue()).toList();
  }
}
