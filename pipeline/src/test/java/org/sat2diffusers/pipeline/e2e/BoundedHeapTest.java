package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * The whole corpus of testdata/bad/ is rejected by a JVM with a 256 MB heap that exits at the first
 * OutOfMemoryError: no lying header makes the converter allocate what the file does not hold.
 */
class BoundedHeapTest {
  @Test
  void rejectingTheCorpusNeedsLessThan256MbOfHeap(@TempDir Path work) throws Exception {
    Path log = work.resolve("child.log");
    Process child = new ProcessBuilder(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m", "-XX:+ExitOnOutOfMemoryError",
        "-Dtestdata.dir=" + TestPaths.testdata(), "-cp", System.getProperty("java.class.path"),
        BadCorpusRun.class.getName(), work.resolve("out").toString()))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertTrue(child.waitFor(5, TimeUnit.MINUTES), "the child JVM did not finish in 5 minutes");
    String output = Files.readString(log, StandardCharsets.UTF_8);

    assertFalse(output.contains("OutOfMemoryError"), output);
    assertTrue(output.contains(BadCorpusRun.DONE), "the child JVM stopped early:\n" + output);
    assertEquals(0, child.exitValue(), "some corpus file was accepted:\n" + output);
  }
}
