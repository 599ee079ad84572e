package org.sat2diffusers.io.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShardIndexTest {
  private static final String FIRST = "diffusion_pytorch_model-00001-of-00002.safetensors";
  private static final String SECOND = "diffusion_pytorch_model-00002-of-00002.safetensors";

  /** The weight map of make_reference.py, in its (unsorted) order. */
  private static Map<String, String> weightMap() {
    Map<String, String> map = new LinkedHashMap<>();
    map.put("transformer_blocks.1.attn1.to_q.weight", SECOND);
    map.put("patch_embed.proj.weight", FIRST);
    map.put("transformer_blocks.0.attn1.to_q.weight", FIRST);
    map.put("norm_final.bias", SECOND);
    map.put("time_embedding.linear_1.weight", FIRST);
    return map;
  }

  @Test
  void writesTheBytesPythonWrites() throws IOException {
    assertArrayEquals(Tensors.resource("shard_index.json"), new ShardIndex(9876543210L, weightMap()).toJsonBytes());
  }

  @Test
  void readsBackWhatPythonWrote() throws IOException {
    ShardIndex index = ShardIndex.parse("shard_index.json", Tensors.resource("shard_index.json"));
    assertEquals(9876543210L, index.totalSize());
    assertEquals(weightMap(), index.weightMap());
    assertEquals(List.of(FIRST, SECOND), index.shardFiles());
  }

  @Test
  void toleratesExtraMetadataAndRejectsWhatIsNotAnIndex() {
    byte[] transformersStyle = "{\"metadata\": {\"total_parameters\": 7, \"total_size\": 28}, \"weight_map\": {\"a\": \"m.safetensors\"}}"
        .getBytes(StandardCharsets.UTF_8);
    assertEquals(new ShardIndex(28, Map.of("a", "m.safetensors")), ShardIndex.parse("t.json", transformersStyle));
    for (String bad : List.of("{\"weight_map\": {}}", "{\"metadata\": {\"total_size\": 1.5}, \"weight_map\": {}}",
        "{\"metadata\": {\"total_size\": 1}, \"weight_map\": {\"a\": 3}}", "[]", "{")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> ShardIndex.parse("bad.index.json", bad.getBytes(StandardCharsets.UTF_8)));
      assertTrue(e.getMessage().startsWith("bad.index.json: "), e.getMessage());
    }
  }
}
