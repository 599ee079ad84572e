package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * On a real standalone cluster (a Master and two Workers, separate JVMs from Spark 3.5.0's own jars),
 * the cluster jar submitted through deploy/spark/submit.sh writes what the DirectRunner writes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StandaloneClusterIT {
  private static final Duration JOB_TIMEOUT = Duration.ofMinutes(4);

  private Path work;
  private StandaloneCluster cluster;

  @BeforeAll
  void startCluster() throws Exception {
    work = Fixtures.buildPath("pipeline.target.dir").resolve("standalone-cluster-it");
    deleteRecursively(work);
    cluster = StandaloneCluster.start(Fixtures.buildPath("spark.home.dir"), work.resolve("cluster"), 2);
  }

  @AfterAll
  void stopCluster() throws InterruptedException {
    if (cluster != null) {
      cluster.close();
    }
  }

  static List<Fixtures.Case> cases() {
    return Fixtures.cases();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void clusterWritesTheDirectRunnersBytes(Fixtures.Case fixture) throws Exception {
    Path direct = work.resolve(fixture.name() + "/direct");
    Path onCluster = work.resolve(fixture.name() + "/cluster");
    InProcessCli.convert(fixture.args(), direct, "--runner", "direct");

    List<String> command = new ArrayList<>(List.of(
        "bash", Fixtures.buildPath("submit.script").toString(), "--conf", "spark.ui.enabled=false", "--", "convert"));
    command.addAll(fixture.args());
    command.addAll(List.of("--output", onCluster.toString()));
    Map<String, String> env = new HashMap<>(cluster.environment());
    env.putAll(Map.of(
        "SPARK_MASTER", cluster.masterUrl(),
        "SAT2DIFFUSERS_JAR", Fixtures.buildPath("pipeline.target.dir").resolve("sat2diffusers-cluster.jar").toString(),
        "DRIVER_MEMORY", "768m",
        "EXECUTOR_MEMORY", "512m",
        "TOTAL_EXECUTOR_CORES", "2"));
    Map<Path, List<Path>> appsBefore = new HashMap<>();
    for (Path worker : cluster.workerDirs()) {
      appsBefore.put(worker, applications(worker));
    }
    try (ChildProcess submit = ChildProcess.start("submit-" + fixture.name(), command, env, work)) {
      int exit = submit.awaitExit(JOB_TIMEOUT);
      assertEquals(0, exit, "the submitted job failed: " + submit.logTail() + "\n" + cluster.logTails());
    }
    for (Path worker : cluster.workerDirs()) { // each Worker keeps a folder per application it ran executors for
      assertTrue(applications(worker).size() > appsBefore.get(worker).size(),
          "the job ran no executor on the Worker of " + worker + "\n" + cluster.logTails());
    }
    OutputTrees.assertSameOutput(direct, onCluster);
  }

  private static List<Path> applications(Path workerDir) throws IOException {
    if (!Files.isDirectory(workerDir)) {
      return List.of();
    }
    try (Stream<Path> apps = Files.list(workerDir)) {
      return apps.filter(app -> app.getFileName().toString().startsWith("app-")).toList();
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(p);
      }
    }
  }
}
