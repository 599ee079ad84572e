package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 5, HDFS: on a MiniDFSCluster started here, the fixtures converted hdfs:// to local and local
 * to hdfs://, and a discovery run over an hdfs:// root, all in one run from a manifest.
 */
class HdfsConversionTest {
  @TempDir static Path work;
  private static MiniDFSCluster cluster;
  private static FileSystem hdfs;
  private static String root;

  @BeforeAll
  static void startCluster() throws IOException {
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, work.resolve("dfs").toString());
    cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).build();
    cluster.waitActive();
    hdfs = cluster.getFileSystem();
    root = "hdfs://127.0.0.1:" + cluster.getNameNodePort();
    hdfs.copyFromLocalFile(new org.apache.hadoop.fs.Path(TestPaths.sat().toUri()),
        new org.apache.hadoop.fs.Path(root + "/sat"));
    for (String run : List.of("cogvideox-2b-sft", "cogvideox1.5-5b-i2v-lora")) {
      hdfs.copyFromLocalFile(new org.apache.hadoop.fs.Path(TestPaths.sat(run).toUri()),
          new org.apache.hadoop.fs.Path(root + "/runs/" + run));
    }
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.shutdown();
    }
  }

  @Test
  void fixturesConvertBetweenHdfsAndLocal() throws IOException {
    Path local = work.resolve("local");
    JobsYaml yaml = new JobsYaml();
    for (FixtureConversion c : FixtureConversion.values()) {
      yaml.job("source", root + "/sat/" + c.source, local.resolve(c.name()).toString(), c.options);
      yaml.job("source", TestPaths.sat(c.source).toString(), root + "/out/" + c.name(), c.options);
    }
    yaml.job("source_root", root + "/runs", local.resolve("discovered").toString(), List.of());
    Path manifest = Files.writeString(work.resolve("jobs.yaml"), yaml.toString());

    CliRun.run("convert", "--manifest", manifest, "--hdfs-conf", "dfs.replication=1,dfs.client.use.datanode.hostname=false")
        .assertSucceeded().assertNoStackTrace();

    List<Executable> checks = new ArrayList<>();
    for (FixtureConversion c : FixtureConversion.values()) {
      Path fromHdfs = download("/out/" + c.name(), work.resolve("downloaded").resolve(c.name()));
      checks.add(() -> assertTrue(Files.exists(fromHdfs.resolve("_SUCCESS")), c + ": not committed on HDFS"));
      checks.add(() -> assertTrue(Files.notExists(fromHdfs.resolve(".sat2diffusers-staging")), c + ": staging left on HDFS"));
      // HDFS listings carry no checksum: the fingerprint's is the CRC-32C of the zip directory and data.pkl
      checks.add(() -> assertTrue(TestData.json(local.resolve(c.name()).resolve("_SUCCESS")).path("sources").path(0)
          .path("checksum").asText().matches("crc32c:[0-9a-f]{8}"), c + ": the marker records no content checksum"));
      for (Path m : c.manifests()) {
        checks.add(() -> assertEquals(List.of(), ExpectedTensors.mismatches(local.resolve(c.name()), m), c + " hdfs -> local"));
        checks.add(() -> assertEquals(List.of(), ExpectedTensors.mismatches(fromHdfs, m), c + " local -> hdfs"));
      }
    }
    Path discovered = local.resolve("discovered");
    checks.add(() -> assertEquals(List.of(), ExpectedTensors.mismatches(discovered.resolve("cogvideox-2b-sft/1000"),
        TestPaths.expected("cogvideox-2b-sft/1000.json")), "discovery over hdfs://"));
    checks.add(() -> assertEquals(List.of(), ExpectedTensors.mismatches(discovered.resolve("cogvideox1.5-5b-i2v-lora/300"),
        TestPaths.expected("cogvideox1.5-5b-i2v-lora/300.alpha1.json")), "discovery over hdfs://"));
    assertAll(checks);
  }

  /** Copies the HDFS folder {@code path} (below the cluster's root) to {@code to}, entries included. */
  private static Path download(String path, Path to) throws IOException {
    org.apache.hadoop.fs.Path from = new org.apache.hadoop.fs.Path(root + path);
    if (!hdfs.exists(from)) {
      return to;
    }
    Files.createDirectories(to.getParent());
    hdfs.copyToLocalFile(false, from, new org.apache.hadoop.fs.Path(to.toUri()), true);
    return to;
  }
}
