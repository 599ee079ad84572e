package org.sat2diffusers.pipeline.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.sat2diffusers.pipeline.e2e.ComponentWeights.WrittenTensor;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * An expectation of testdata/training/expected ({@code {"tensors": {key: {dtype, shape, sha256}}}},
 * e.g. what DeepSpeed's zero_to_fp32.py gives) against a converted transformer folder: every key,
 * byte for byte, and nothing else.
 */
final class TrainingExpectations {
  private TrainingExpectations() {}

  static Path training(String relative) {
    return TestPaths.testdata().resolve("training").resolve(relative);
  }

  /** Every difference between the transformer written in {@code output} and {@code expectation}; empty when equal. */
  static List<String> transformerMismatches(Path output, Path expectation) throws IOException {
    JsonNode tensors = TestData.json(expectation).get("tensors");
    Map<String, WrittenTensor> written =
        ComponentWeights.read(output.resolve("transformer"), "diffusion_pytorch_model").tensors();
    Set<String> expected = new TreeSet<>();
    tensors.fieldNames().forEachRemaining(expected::add);
    List<String> problems = new ArrayList<>();
    for (String key : expected) {
      JsonNode e = tensors.get(key);
      WrittenTensor got = written.get(key);
      List<Long> shape = new ArrayList<>();
      e.get("shape").forEach(d -> shape.add(d.asLong()));
      if (got == null) {
        problems.add(key + ": missing");
      } else if (!got.dtype().safetensorsName().equals(e.get("dtype").asText()) || !got.shape().equals(shape)) {
        problems.add(key + ": written as " + got.dtype() + " " + got.shape() + ", expected " + e.get("dtype").asText()
            + " " + shape);
      } else if (!got.sha256().equals(e.get("sha256").asText())) {
        problems.add(key + ": other bytes (sha256 " + got.sha256() + ")");
      }
    }
    new TreeSet<>(written.keySet()).stream().filter(k -> !expected.contains(k)).forEach(k -> problems.add(k + ": not expected"));
    return problems;
  }
}
