package org.sat2diffusers.transforms.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.sat2diffusers.io.dtype.Dtype;

/**
 * A merge computed by torch (src/test/python/make_lora_merge_cases.py): W, A_i, B_i and the expected
 * result, as little-endian bytes.
 */
public record LoraMergeCase(
    String name, Dtype dtype, int parts, int rank, int in, int outPerPart, double alpha, float scale,
    byte[] w, List<byte[]> a, List<byte[]> b, byte[] expected) {

  public static List<LoraMergeCase> all() {
    try (InputStream stream = LoraMergeCase.class.getResourceAsStream("/lora/merge_cases.json")) {
      List<LoraMergeCase> out = new ArrayList<>();
      for (JsonNode c : new ObjectMapper().readTree(stream).get("cases")) {
        out.add(new LoraMergeCase(
            c.get("name").asText(), Dtype.fromSafetensorsName(c.get("dtype").asText()), c.get("parts").asInt(),
            c.get("rank").asInt(), c.get("in").asInt(), c.get("outPerPart").asInt(), c.get("alpha").asDouble(),
            (float) c.get("scale").asDouble(), bytes(c.get("w")), list(c.get("a")), list(c.get("b")),
            bytes(c.get("expected"))));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] bytes(JsonNode node) {
    return Base64.getDecoder().decode(node.asText());
  }

  private static List<byte[]> list(JsonNode array) {
    List<byte[]> out = new ArrayList<>();
    array.forEach(n -> out.add(bytes(n)));
    return out;
  }

  @Override
  public String toString() {
    return name;
  }
}
