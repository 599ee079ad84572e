package org.sat2diffusers.io.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.CountingRandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.RangeCopier;

/**
 * Reads recipes' bytes through a bounded buffer and compares them with a testdata/training
 * expectation file ({@code {"tensors": {key: {dtype, shape, sha256}}}}).
 */
public final class RecipeDigests {
  /** Small on purpose: ranges longer than this are read in several calls. */
  public static final int BUFFER_BYTES = 4096;

  private RecipeDigests() {}

  /** sha256 of a recipe's bytes; every read call is at most {@link #BUFFER_BYTES}, checked through the counting inputs. */
  public static String sha256(TensorRecipe recipe) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    RangeCopier copier = new RangeCopier(BUFFER_BYTES);
    Map<String, CountingRandomAccessInput> inputs = new HashMap<>();
    long copied = 0;
    try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), digest)) {
      for (ByteRange range : recipe.ranges()) {
        CountingRandomAccessInput in = inputs.get(range.file());
        if (in == null) {
          in = new CountingRandomAccessInput(RandomAccessInputs.open(range.file()));
          inputs.put(range.file(), in);
        }
        copied += copier.copy(in, List.of(range), out);
      }
    } finally {
      for (RandomAccessInput in : inputs.values()) {
        in.close();
      }
    }
    long calls = inputs.values().stream().mapToLong(CountingRandomAccessInput::readCalls).sum();
    long read = inputs.values().stream().mapToLong(CountingRandomAccessInput::bytesRead).sum();
    assertEquals(recipe.byteLength(), copied, recipe.key());
    assertEquals(recipe.byteLength(), read, recipe.key() + ": bytes read beyond the recipe");
    assertTrue(calls >= (recipe.byteLength() + BUFFER_BYTES - 1) / BUFFER_BYTES, recipe.key() + ": reads larger than the buffer");
    return HexFormat.of().formatHex(digest.digest());
  }

  /** {key: "dtype shape sha256"} of an expectation file, in its order. */
  public static Map<String, String> expected(Path json) throws IOException {
    JsonNode tensors = new ObjectMapper().readTree(json.toFile()).get("tensors");
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = tensors.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      List<Long> shape = new ArrayList<>();
      e.getValue().get("shape").forEach(n -> shape.add(n.asLong()));
      out.put(e.getKey(), e.getValue().get("dtype").asText() + " " + shape + " " + e.getValue().get("sha256").asText());
    }
    return out;
  }

  /** The same description of recipes, their bytes read and hashed. */
  public static Map<String, String> actual(List<TensorRecipe> recipes) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    for (TensorRecipe recipe : recipes) {
      out.put(recipe.key(), recipe.dtype().safetensorsName() + " " + recipe.shape() + " " + sha256(recipe));
    }
    return out;
  }
}
