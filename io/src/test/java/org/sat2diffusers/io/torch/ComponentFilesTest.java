package org.sat2diffusers.io.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.sat2diffusers.io.storage.Fixtures;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;

/**
 * testdata/training/components: a VAE or a transformer file on its own are plain torch files; read
 * as recipes they are the tensors of the SAT iteration they were cut from (its source manifest):
 * the VAE's without their {@code first_stage_model.} prefix, the transformer's as they were.
 */
class ComponentFilesTest {
  private static final Path TESTDATA = Fixtures.testdata();

  @ParameterizedTest
  @CsvSource({"3d-vae.pt, first_stage_model., true", "transformer.pt, model.diffusion_model., false"})
  void aComponentFileIsTheIterationsTensorsUnderThatPrefix(String file, String prefix, boolean removed) throws Exception {
    String path = TESTDATA.resolve("training/components").resolve(file).toString();
    List<TensorRecipe> recipes = new ArrayList<>();
    try (RandomAccessInput in = RandomAccessInputs.open(path)) {
      for (TensorRecord record : new TorchCheckpointReader().index(in).tensors()) {
        recipes.add(TensorRecipe.of(path, record).named((removed ? prefix : "") + record.key()));
      }
    }
    JsonNode source = new ObjectMapper().readTree(
        TESTDATA.resolve("expected/source/cogvideox-2b-sft/1000/mp_rank_00_model_states.json").toFile()).get("tensors");
    Map<String, String> expected = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = source.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().startsWith(prefix)) {
        List<Long> shape = new ArrayList<>();
        e.getValue().get("shape").forEach(n -> shape.add(n.asLong()));
        expected.put(e.getKey(), e.getValue().get("dtype").asText() + " " + shape + " " + e.getValue().get("sha256").asText());
      }
    }
    assertEquals(expected, RecipeDigests.actual(recipes));
  }
}
