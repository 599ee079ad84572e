package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The executable jar: plain {@code java -jar}, no JVM flags, runs the SparkRunner embedded. */
class ExecutableJarIT {
  private static final Duration TIMEOUT = Duration.ofMinutes(3);

  @Test
  void plainJavaJarRunsSparkLocalAndWritesTheDirectRunnersBytes(@TempDir Path work) throws Exception {
    Fixtures.Case fixture = Fixtures.cases().get(0);
    Path direct = work.resolve("direct");
    Path spark = work.resolve("spark");
    InProcessCli.convert(fixture.args(), direct, "--runner", "direct");

    List<String> command = new ArrayList<>(List.of(ChildProcess.java(), "-jar", ExecutableJar.path().toString(), "convert"));
    command.addAll(fixture.args());
    // a Spark option by name: Spark's options are registered on demand (the jar's registry leaves them out)
    command.addAll(List.of("--output", spark.toString(), "--runner", "spark", "--spark-master", "local[2]",
        "--beam-option", "storageLevel=MEMORY_ONLY"));
    try (ChildProcess run = ChildProcess.start("java-jar", command, Map.of(), work)) {
      assertEquals(0, run.awaitExit(TIMEOUT), run.logTail());
    }
    OutputTrees.assertSameOutput(direct, spark);
  }

  /** Shading merged the service files: every runner and every file system stays registered. */
  @Test
  void servicesOfAllJarsSurviveShading() throws IOException {
    try (JarFile jar = new JarFile(ExecutableJar.path().toFile())) {
      String runners = service(jar, "org.apache.beam.sdk.runners.PipelineRunnerRegistrar");
      assertTrue(runners.contains("org.apache.beam.runners.spark.SparkRunnerRegistrar"), runners);
      assertTrue(runners.contains("org.apache.beam.runners.direct.DirectRegistrar"), runners);
      String hadoop = service(jar, "org.apache.hadoop.fs.FileSystem");
      assertTrue(hadoop.contains("org.apache.hadoop.fs.LocalFileSystem"), hadoop);
      assertTrue(hadoop.contains("org.apache.hadoop.hdfs.DistributedFileSystem"), hadoop);
      String addOpens = jar.getManifest().getMainAttributes().getValue("Add-Opens");
      assertNotNull(addOpens, "no Add-Opens in the manifest");
      assertTrue(addOpens.contains("java.base/sun.nio.ch"), addOpens);
    }
  }

  /**
   * Start-up (issue 17): Beam's options registry and JSON mapper take in only what an embedded run
   * needs; each registrar or module more costs every run its loading and cross-checking.
   */
  @Test
  void theOptionsRegistryAndJsonModulesHoldOnlyWhatEveryRunNeeds() throws IOException {
    try (JarFile jar = new JarFile(ExecutableJar.path().toFile())) {
      String registrars = service(jar, "org.apache.beam.sdk.options.PipelineOptionsRegistrar");
      for (String left : List.of("spark", "gcp", "kinesis", "aws2")) {
        assertFalse(registrars.contains(left), left + " options registered at every start:\n" + registrars);
      }
      assertTrue(registrars.contains("org.apache.beam.runners.direct.DirectRegistrar$Options"), registrars);
      String modules = service(jar, "com.fasterxml.jackson.databind.Module");
      assertFalse(modules.contains("scala") || modules.contains("jaxb"), modules);
      assertTrue(modules.contains("org.apache.beam.sdk.io.aws2.options.AwsModule"), modules); // S3 options as JSON
    }
  }

  private static String service(JarFile jar, String name) throws IOException {
    ZipEntry entry = jar.getEntry("META-INF/services/" + name);
    assertNotNull(entry, name + " is not registered in " + jar.getName());
    return new String(jar.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8);
  }
}
