package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.io.hdfs.HadoopFileSystemOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.storage.ChangedWhileReadingException;
import org.sat2diffusers.io.storage.PathStyleS3ClientBuilderFactory;
import org.sat2diffusers.io.storage.S3ConditionalReplace;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.storage.OutputLock;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Issue 18: the output lock on each store it supports (local, S3 through S3Proxy with a
 * conditional PUT, HDFS on a MiniDFSCluster with an exclusive create): one holder at a time among
 * racing takers, a live holder's lock refused, a dead or expired holder's taken over (by one of the
 * runs that find it at once), released on close.
 */
class OutputLockTest {
  private static final String BUCKET = "locks";
  private static final AtomicInteger OUTPUTS = new AtomicInteger();

  @TempDir static Path work;
  private static MiniDFSCluster cluster;
  private static AwsTestCredentials credentials;
  private static PipelineOptions options;

  @BeforeAll
  static void startStores() throws Exception {
    S3ProxyServer server = S3ProxyServer.shared();
    try (S3Client s3 = S3ProxyServer.client(server.port())) {
      s3.createBucket(b -> b.bucket(BUCKET));
    }
    credentials = AwsTestCredentials.set(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, work.resolve("dfs").toString());
    cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    cluster.waitActive();

    options = PipelineOptionsFactory.create();
    S3Options s3 = options.as(S3Options.class);
    s3.setEndpoint(URI.create("http://127.0.0.1:" + server.port()));
    s3.setAwsRegion(Region.US_EAST_1);
    s3.setS3ClientFactoryClass(PathStyleS3ClientBuilderFactory.class);
    Configuration hdfs = new Configuration(false);
    hdfs.set("fs.defaultFS", "hdfs://127.0.0.1:" + cluster.getNameNodePort());
    hdfs.set("dfs.replication", "1");
    options.as(HadoopFileSystemOptions.class).setHdfsConfiguration(List.of(hdfs));
  }

  @BeforeEach
  void useStores() {
    FileSystems.setDefaultPipelineOptions(options); // CLI runs of other tests set their own
  }

  @AfterAll
  static void stopStores() {
    credentials.close();
    if (cluster != null) {
      cluster.shutdown();
    }
  }

  private static String newOutput(String store) {
    int n = OUTPUTS.incrementAndGet();
    return switch (store) {
      case "local" -> work.resolve("out-" + n).toString();
      case "s3" -> "s3://" + BUCKET + "/out-" + n;
      case "hdfs" -> "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/out-" + n;
      default -> throw new IllegalArgumentException(store);
    };
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "s3", "hdfs"})
  void aHeldLockIsRefusedUntilReleased(String store) throws IOException {
    String out = newOutput(store);
    try (OutputLock first = OutputLock.acquire(out, options, Duration.ZERO)) {
      assertTrue(StorageFiles.exists(out + "/" + OutputLock.FILE));
      OutputLock.Busy busy = assertThrows(OutputLock.Busy.class, () -> OutputLock.acquire(out, options, Duration.ZERO));
      assertTrue(busy.getMessage().contains(out + " is being written by another run (process "
          + ProcessHandle.current().pid()), busy.getMessage());
    }
    assertFalse(StorageFiles.exists(out + "/" + OutputLock.FILE), "released");
    OutputLock.acquire(out, options, Duration.ZERO).close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "s3", "hdfs"})
  void racingTakersGetItOneAtATime(String store) throws Exception {
    String out = newOutput(store);
    AtomicInteger holders = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      List<Future<?>> takers = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        takers.add(pool.submit(() -> {
          try (OutputLock lock = OutputLock.acquire(out, options, Duration.ofSeconds(60))) {
            most.accumulateAndGet(holders.incrementAndGet(), Math::max);
            Thread.sleep(200);
            holders.decrementAndGet();
          }
          return null;
        }));
      }
      for (Future<?> t : takers) {
        t.get(); // each got it in the end, within the wait
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(1, most.get(), "most holders at once");
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "s3", "hdfs"})
  void theLockOfAnEndedProcessIsTakenOver(String store) throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    String out = newOutput(store);
    StorageFiles.writeString(out + "/" + OutputLock.FILE,
        lock(InetAddress.getLocalHost().getHostName(), gone.pid(), System.currentTimeMillis() + 3_600_000));
    OutputLock.acquire(out, options, Duration.ZERO).close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "s3", "hdfs"})
  void anExpiredLeaseIsTakenOverAndALiveOneOfAnotherHostIsNot(String store) throws Exception {
    String expired = newOutput(store);
    StorageFiles.writeString(expired + "/" + OutputLock.FILE, lock("elsewhere", 1, System.currentTimeMillis() - 1));
    OutputLock.acquire(expired, options, Duration.ZERO).close();

    String live = newOutput(store);
    String text = lock("elsewhere", 1, System.currentTimeMillis() + 3_600_000);
    StorageFiles.writeString(live + "/" + OutputLock.FILE, text);
    assertThrows(OutputLock.Busy.class, () -> OutputLock.acquire(live, options, Duration.ofMillis(1500)));
    assertEquals(text, StorageFiles.readString(live + "/" + OutputLock.FILE, 1 << 16), "a live lock is left as it is");
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "s3", "hdfs"})
  void runsFindingTheSameStaleLockTakeItOverOneAtATime(String store) throws Exception {
    for (int round = 0; round < 3; round++) {
      String out = newOutput(store);
      StorageFiles.writeString(out + "/" + OutputLock.FILE, lock("elsewhere", 1, System.currentTimeMillis() - 1));
      AtomicInteger holders = new AtomicInteger();
      AtomicInteger most = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(3);
      try {
        List<Future<?>> takers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          takers.add(pool.submit(() -> {
            try (OutputLock lock = OutputLock.acquire(out, options, Duration.ofSeconds(60))) {
              most.accumulateAndGet(holders.incrementAndGet(), Math::max);
              Thread.sleep(300);
              holders.decrementAndGet();
            }
            return null;
          }));
        }
        for (Future<?> t : takers) {
          t.get();
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(1, most.get(), "most holders at once, round " + round);
    }
  }

  /**
   * Beam's S3 channel takes an object's size when opened and its bytes at the first read: a lock
   * replaced by a shorter text in between (a rival's takeover) made every read answer 0 bytes, and
   * the read spun for ever (seen once in CI-like runs of the test above). Now such a read ends: the
   * text of one version, or an error saying the object changed (which the lock code reads again).
   */
  @Test
  @Timeout(120)
  void readingAnS3ObjectThatIsReplacedMeanwhileNeverHangs() throws Exception {
    String file = newOutput("s3") + "/changing.txt";
    String shortText = "short";
    String longText = "long ".repeat(400);
    StorageFiles.writeString(file, longText);
    AtomicBoolean reading = new AtomicBoolean(true);
    ExecutorService writer = Executors.newSingleThreadExecutor();
    Future<?> replacing = writer.submit(() -> {
      for (int i = 0; reading.get(); i++) {
        StorageFiles.writeString(file, i % 2 == 0 ? shortText : longText);
      }
      return null;
    });
    int changed = 0;
    try {
      for (int read = 0; read < 300; read++) {
        try {
          String text = StorageFiles.readString(file, 1 << 16);
          assertTrue(text.equals(shortText) || text.equals(longText) || longText.startsWith(text),
              "read " + read + ": " + text.length() + " characters of neither version");
        } catch (ChangedWhileReadingException e) {
          changed++;
        }
      }
    } finally {
      reading.set(false);
      replacing.get();
      writer.shutdown();
    }
    assertTrue(changed < 300, "every read failed");
  }

  /**
   * The S3 takeover's guarantee, step by step: a run that read a stale lock and judged it stale, but
   * was overtaken by another run's takeover, cannot replace the lock that run now holds (S3Proxy
   * honours {@code If-Match} on PUT), nor recreate a lock that is gone.
   */
  @Test
  void anS3TakeoverReplacesOnlyTheStaleVersionItRead() throws Exception {
    String out = newOutput("s3");
    String file = out + "/" + OutputLock.FILE;
    StorageFiles.writeString(file, lock("elsewhere", 1, System.currentTimeMillis() - 1));
    S3ConditionalReplace.Version seen = S3ConditionalReplace.read(file, 1 << 16).orElseThrow();

    try (OutputLock first = OutputLock.acquire(out, options, Duration.ZERO)) {
      String held = StorageFiles.readString(file, 1 << 16);
      assertTrue(held.contains("\"pid\": " + ProcessHandle.current().pid()), held);
      assertFalse(S3ConditionalReplace.replace(file, seen, lock("late", 2, Long.MAX_VALUE)), "replaced a lock taken over");
      assertEquals(held, StorageFiles.readString(file, 1 << 16), "the holder's lock is left as it is");
      assertThrows(OutputLock.Busy.class, () -> OutputLock.acquire(out, options, Duration.ZERO));
    }
    assertFalse(S3ConditionalReplace.replace(file, seen, lock("late", 2, Long.MAX_VALUE)), "recreated a released lock");
    assertFalse(StorageFiles.exists(file));

    StorageFiles.writeString(file, "unchanged");
    S3ConditionalReplace.Version current = S3ConditionalReplace.read(file, 1 << 16).orElseThrow();
    assertTrue(S3ConditionalReplace.replace(file, current, "replaced"));
    assertEquals("replaced", StorageFiles.readString(file, 1 << 16));
  }

  private static String lock(String host, long pid, long expiresAtMillis) {
    return "{\"expires_at_ms\": " + expiresAtMillis + ", \"host\": \"" + host + "\", \"pid\": " + pid
        + ", \"run\": \"other-run\", \"since\": \"2026-01-01T00:00:00Z\"}\n";
  }
}
