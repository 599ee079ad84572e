package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.e2e.ExpectedTensors;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * A LoRA conversion under {@code --log-format json} prints nothing but our JSON lines, whichever
 * BLAS the machine has: forced to the Java kernel, with the native library absent, and as the
 * machine is. netlib's native loader would print its dlopen failure on stderr from C; the run says
 * in one FINE line and in the report which BLAS multiplied, and the merged tensors are right.
 */
class BlasPathIT {
  private static final Duration TIMEOUT = Duration.ofMinutes(3);
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void javaPathAskedFor(@TempDir Path work) throws Exception {
    String blas = convertLoraFixture(work, List.of("-Dsat2diffusers.blas=java"));
    assertTrue(blas.startsWith("Java (sat2diffusers kernel; the Java path was asked for"), blas);
  }

  @Test
  void nativeLibraryAbsent(@TempDir Path work) throws Exception {
    Path absent = work.resolve("no-blas/libopenblas.so.0");
    String blas = convertLoraFixture(work, List.of("-Ddev.ludovic.netlib.blas.nativeLibPath=" + absent));
    assertTrue(blas.startsWith("Java (sat2diffusers kernel; " + absent + " does not load"), blas);
  }

  @Test
  void whateverTheMachineHas(@TempDir Path work) throws Exception {
    String blas = convertLoraFixture(work, List.of());
    assertTrue(blas.startsWith("JNIBLAS (native ") || blas.startsWith("Java (sat2diffusers kernel; libopenblas.so.0 was not found"), blas);
  }

  /** Converts the 5B LoRA fixture in a JVM with {@code jvmFlags}; returns the BLAS its report names. */
  private static String convertLoraFixture(Path work, List<String> jvmFlags) throws Exception {
    Path out = work.resolve("out");
    List<String> command = new ArrayList<>(List.of(ChildProcess.java()));
    command.addAll(jvmFlags);
    command.addAll(List.of("-jar", ExecutableJar.path().toString(), "convert",
        "--source", TestPaths.sat("cogvideox-5b-lora").toString(), "--model", "cogvideox-5b",
        "--output", out.toString(), "--log-format", "json", "--verbose"));
    String log;
    try (ChildProcess run = ChildProcess.start("convert", command, Map.of(), work)) {
      assertEquals(0, run.awaitExit(TIMEOUT), run.logTail());
      log = run.log();
    }
    String logged = null;
    for (String line : log.lines().toList()) { // stdout and stderr, as a log collector gets them
      JsonNode entry;
      try {
        entry = JSON.readTree(line);
      } catch (Exception e) {
        return fail("not a JSON log line: " + line);
      }
      assertTrue(entry.isObject() && entry.has("message"), "not a JSON log object: " + line);
      String message = entry.get("message").asText();
      if (message.startsWith("LoRA merges multiply with ")) {
        assertEquals(null, logged, "the BLAS line twice");
        logged = message.substring("LoRA merges multiply with ".length());
      }
    }
    String reported = JSON.readTree(Files.readString(out.resolve("conversion_report.json")))
        .path("provenance").path("lora_merge_blas").asText();
    assertEquals(reported, logged, "the log line and the report name the same BLAS");
    assertEquals(List.of(), ExpectedTensors.mismatches(out, TestPaths.expected("cogvideox-5b-lora/200.alpha1.json")));
    return reported;
  }
}
