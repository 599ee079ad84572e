package org.sat2diffusers.io.deepspeed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fp32 masters of a ~590 MB ZeRO-2 checkpoint, whose optimizer files (~250 MB) and flat group
 * partitions (~84 MB) are each larger than the heap, are assembled and read in a JVM with
 * {@code -Xmx64m}: nothing ever holds a flat group.
 */
class ZeroCheckpointMemoryTest {
  private static final int PARAMS = 41; // 41 x 1,024,000 elements: parameter 20 spans both partitions
  private static final String HEAP = "-Xmx64m";

  @Test
  void fp32MastersOfPartitionsLargerThanTheHeapAreReadUnderASmallHeap(@TempDir Path tmp) throws Exception {
    LargeZero2Checkpoint.write(tmp, PARAMS);
    Path optimizer = tmp.resolve("global_step3/bf16_zero_pp_rank_0_mp_rank_00_optim_states.pt");
    assertTrue(Files.size(optimizer) > 3 * (64L << 20), "the optimizer partition should be several heaps large");

    Path output = tmp.resolve("probe.txt");
    Process probe = new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), HEAP,
            "-cp", System.getProperty("java.class.path"), ZeroMemoryProbe.class.getName(), tmp.toString())
        .redirectErrorStream(true).redirectOutput(output.toFile()).start();
    assertTrue(probe.waitFor(10, TimeUnit.MINUTES), "the probe did not finish in 10 minutes");
    List<String> lines = Files.readAllLines(output, StandardCharsets.UTF_8);
    assertEquals(0, probe.exitValue(), String.join("\n", lines));

    Map<String, String> digests = new LinkedHashMap<>();
    for (String line : lines) {
      String[] parts = line.split(" ");
      if (parts.length == 3 && parts[0].startsWith("blocks.")) {
        digests.put(parts[0], parts[2]);
        assertEquals(parts[0].equals(LargeZero2Checkpoint.name(20)) ? "2" : "1", parts[1], line);
      }
    }
    assertEquals(LargeZero2Checkpoint.expectedMasters(PARAMS), digests);
    assertTrue(lines.get(lines.size() - 1).startsWith("max heap "), lines.get(lines.size() - 1));
    assertTrue(Long.parseLong(lines.get(lines.size() - 1).substring(9)) <= 64L << 20);
  }
}
