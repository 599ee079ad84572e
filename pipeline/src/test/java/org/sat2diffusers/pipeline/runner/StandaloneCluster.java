package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A Spark standalone cluster on loopback: one Master and some Workers, each a JVM of its own run from
 * a Spark home's jars. Closing it stops exactly these processes and the executors they started.
 */
final class StandaloneCluster implements AutoCloseable {
  private static final Duration STARTUP = Duration.ofSeconds(90);

  private final Path sparkHome;
  private final Path workDir;
  private final String masterUrl;
  private final List<ChildProcess> processes = new ArrayList<>();
  private final List<Path> workerDirs = new ArrayList<>();

  private StandaloneCluster(Path sparkHome, Path workDir, int masterPort) {
    this.sparkHome = sparkHome;
    this.workDir = workDir;
    this.masterUrl = "spark://127.0.0.1:" + masterPort;
  }

  /** Starts the Master, then the Workers (one core, 1 GB each), and waits until all have registered. */
  static StandaloneCluster start(Path sparkHome, Path workDir, int workers) throws Exception {
    StandaloneCluster cluster = new StandaloneCluster(sparkHome, workDir, freeLoopbackPort());
    try {
      ChildProcess master = cluster.launch("master", List.of(
          "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
          "--port", cluster.masterUrl.substring(cluster.masterUrl.lastIndexOf(':') + 1), "--webui-port", "0"));
      cluster.await(master, log -> log.contains("I have been elected leader"), "the Master to start");
      for (int i = 1; i <= workers; i++) {
        Path dir = workDir.resolve("worker-" + i);
        cluster.workerDirs.add(dir);
        cluster.launch("worker-" + i, List.of(
            "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--webui-port", "0",
            "--cores", "1", "--memory", "1g", "--work-dir", dir.toString(), cluster.masterUrl));
      }
      cluster.await(master, log -> log.split("Registering worker", -1).length - 1 == workers, workers + " Workers to register");
      return cluster;
    } catch (Throwable t) {
      cluster.close();
      throw t;
    }
  }

  String masterUrl() {
    return masterUrl;
  }

  /** The Workers' work folders: one sub-folder per application that ran an executor there. */
  List<Path> workerDirs() {
    return workerDirs;
  }

  /**
   * What every process of or talking to this cluster needs in its environment. Spark's own scripts
   * would set SPARK_SCALA_VERSION; a Worker needs it to build its executors' command line.
   */
  Map<String, String> environment() {
    return Map.of("SPARK_HOME", sparkHome.toString(), "SPARK_LOCAL_IP", "127.0.0.1", "SPARK_SCALA_VERSION", "2.12");
  }

  /** The logs of all cluster processes, for failure messages. */
  String logTails() {
    StringBuilder tails = new StringBuilder();
    processes.forEach(p -> tails.append(p.logTail()).append('\n'));
    return tails.toString();
  }

  private ChildProcess launch(String name, List<String> mainAndArgs) throws IOException {
    List<String> command = new ArrayList<>(List.of(ChildProcess.java(), "-Xmx256m", "-cp", sparkHome.resolve("jars") + "/*"));
    command.addAll(mainAndArgs);
    ChildProcess process = ChildProcess.start(name, command, environment(), workDir);
    processes.add(process);
    return process;
  }

  private void await(ChildProcess watched, Predicate<String> logShows, String what) throws InterruptedException {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (!logShows.test(watched.log())) {
      for (ChildProcess p : processes) {
        if (!p.isAlive()) {
          fail("a cluster process exited while waiting for " + what + ": " + p.logTail());
        }
      }
      if (System.nanoTime() > deadline) {
        fail("waited " + STARTUP + " for " + what + ":\n" + logTails());
      }
      Thread.sleep(200);
    }
  }

  private static int freeLoopbackPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Workers first (each stops its executors), then the Master. */
  @Override
  public void close() throws InterruptedException {
    for (int i = processes.size() - 1; i >= 0; i--) {
      processes.get(i).close();
    }
  }
}
