package org.sat2diffusers.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The levels set for our loggers hold for the whole run, also after garbage collections. */
class LogSetupTest {
  @Test
  void verboseDetailOfOurLoggersSurvivesGarbageCollection() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    LogSetup.configure(LogSetup.Format.human, true, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    for (int i = 0; i < 3; i++) {
      System.gc(); // java.util.logging holds loggers weakly: an unreferenced one loses its level here
    }
    LoggerFactory.getLogger("org.sat2diffusers.pipeline.steps.Probe").debug("per-tensor detail");
    LoggerFactory.getLogger("org.apache.beam.Probe").info("library chatter");
    String logged = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(logged.contains("per-tensor detail"), logged);
    assertFalse(logged.contains("library chatter"), logged);
  }
}
