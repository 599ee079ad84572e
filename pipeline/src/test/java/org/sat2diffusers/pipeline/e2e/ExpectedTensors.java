package org.sat2diffusers.pipeline.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.pipeline.e2e.ComponentWeights.WrittenTensor;
import org.sat2diffusers.transforms.records.Component;

/**
 * An expected manifest, {@code testdata/expected/<fixture>/<case>.json}: per component, every output
 * key with dtype, shape and the sha256 of its bytes; LoRA-merged keys also carry their bytes
 * ({@code b64}) and may differ from them by one unit in the last place (summation order).
 */
public final class ExpectedTensors {
  private ExpectedTensors() {}

  /** The components the manifest describes. */
  static List<Component> components(Path manifest) {
    JsonNode expected = TestData.json(manifest);
    return Arrays.stream(Component.values()).filter(c -> expected.has(c.folder())).toList();
  }

  /** Every difference between the converted folder and the manifest; empty when they match. */
  public static List<String> mismatches(Path output, Path manifest) throws IOException {
    JsonNode expected = TestData.json(manifest);
    List<String> problems = new ArrayList<>();
    for (Component c : components(manifest)) {
      Map<String, WrittenTensor> written = ComponentWeights.read(output.resolve(c.folder()), c.fileStem()).tensors();
      JsonNode keys = expected.get(c.folder());
      Set<String> expectedNames = new TreeSet<>();
      keys.fieldNames().forEachRemaining(expectedNames::add);
      for (String name : expectedNames) {
        WrittenTensor got = written.get(name);
        String problem = got == null ? "missing" : mismatch(keys.get(name), got);
        if (problem != null) {
          problems.add(c.folder() + ": " + name + ": " + problem);
        }
      }
      new TreeSet<>(written.keySet()).stream().filter(n -> !expectedNames.contains(n))
          .forEach(n -> problems.add(c.folder() + ": " + n + ": not expected"));
    }
    return problems;
  }

  private static String mismatch(JsonNode expected, WrittenTensor got) {
    String dtype = expected.get("dtype").asText();
    List<Long> shape = new ArrayList<>();
    expected.get("shape").forEach(d -> shape.add(d.asLong()));
    if (!dtype.equals(got.dtype().safetensorsName()) || !shape.equals(got.shape())) {
      return "written as " + got.dtype() + " " + got.shape() + ", expected " + dtype + " " + shape;
    }
    if (expected.get("sha256").asText().equals(got.sha256())) {
      return null;
    }
    if (!expected.has("b64")) {
      return "sha256 " + got.sha256() + " != expected " + expected.get("sha256").asText();
    }
    long ulps = Ulps.maxDistance(Base64.getDecoder().decode(expected.get("b64").asText()), got.bytes(), Dtype.fromSafetensorsName(dtype));
    return ulps <= 1 ? null : "LoRA merge off by " + ulps + " ulp";
  }
}
