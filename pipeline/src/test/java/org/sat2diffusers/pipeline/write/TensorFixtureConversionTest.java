package org.sat2diffusers.pipeline.write;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.TensorMapping;
import org.sat2diffusers.transforms.convert.FixtureCase;
import org.sat2diffusers.transforms.lora.Ulp;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * Converts every fixture for real: plans from the records the torch reader gives, assembles each
 * output tensor from the .pt file, and compares its bytes with the expected sha256 (LoRA-merged
 * tensors: within 1 ulp of the expected bytes, as DESIGN.md section 6 allows).
 */
class TensorFixtureConversionTest {
  static Stream<FixtureCase> cases() {
    return FixtureCase.all();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void assembledTensorsMatchExpectedBytes(FixtureCase c) throws IOException {
    JsonNode expected = c.expectedJson();
    TensorMapping plan = c.mapping();
    int checked = 0;
    // a small buffer so that copies, casts and merges run over several blocks
    try (TensorAssembler assembler = new TensorAssembler(RandomAccessInputs::open, 256)) {
      for (Component component : plan.components()) {
        JsonNode tensors = expected.get(component.folder());
        if (tensors == null) {
          continue;
        }
        for (OutputTensor t : plan.outputs(component)) {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          assembler.write(t, out);
          byte[] bytes = out.toByteArray();
          JsonNode e = tensors.get(t.name());
          assertEquals(t.byteLength(), bytes.length, t.name());
          if (e.has("b64")) {
            long ulps = Ulp.maxDistance(t.dtype(), Base64.getDecoder().decode(e.get("b64").asText()), bytes);
            assertTrue(ulps <= 1, t.name() + ": LoRA merge off by " + ulps + " ulp");
          } else {
            assertEquals(e.get("sha256").asText(), sha256(bytes), component.folder() + " " + t.name());
          }
          checked++;
        }
      }
    }
    assertTrue(checked > 0);
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
