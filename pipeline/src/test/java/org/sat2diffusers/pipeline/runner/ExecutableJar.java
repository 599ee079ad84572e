package org.sat2diffusers.pipeline.runner;

import java.nio.file.Path;

/** The executable jar the build made (integration tests run after {@code package}). */
final class ExecutableJar {
  private ExecutableJar() {}

  static Path path() {
    return Fixtures.buildPath("pipeline.target.dir").resolve("sat2diffusers.jar");
  }
}
