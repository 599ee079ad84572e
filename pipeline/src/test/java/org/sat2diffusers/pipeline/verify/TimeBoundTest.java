package org.sat2diffusers.pipeline.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A check stuck where no interrupt reaches it (opening a FIFO nobody writes to blocks in the kernel)
 * costs its time limit, and the next check still runs.
 */
class TimeBoundTest {
  @TempDir Path work;

  @Test
  void aCheckStuckOpeningAFifoTimesOutAndTheNextOneRuns() throws Exception {
    Path fifo = work.resolve("fifo");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
    try (TimeBound bound = new TimeBound()) {
      long start = System.nanoTime();
      assertThrows(TimeoutException.class, () -> bound.run(Duration.ofMillis(300), () -> {
        try (InputStream in = Files.newInputStream(fifo)) {
          return in.read();
        }
      }));
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertTrue(millis >= 300 && millis < 10_000, millis + " ms");
      assertEquals("next", bound.run(Duration.ofSeconds(10), () -> "next"));
    }
    // let the abandoned thread go: open the FIFO's other end
    try (var out = Files.newOutputStream(fifo)) {
      out.write(1);
    }
  }
}
