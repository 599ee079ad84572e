package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ContentSummary;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.DistributedFileSystem;
import org.apache.hadoop.hdfs.protocol.HdfsConstants;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.pipeline.verify.ConvertedFolderCheck;

/**
 * Issue 5, HDFS: on a MiniDFSCluster started here, the fixtures converted hdfs:// to local and local
 * to hdfs://, and a discovery run over an hdfs:// root, all in one run from a manifest; an output
 * that cannot be replaced keeps its old contents.
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

  /**
   * Issue 18: an {@code --overwrite} that cannot write a component folder (here: an HDFS namespace
   * quota on {@code vae/}, which binds the superuser too) is refused before the old marker is
   * removed: the old output stays complete, byte for byte, and verifies.
   */
  @Test
  void anOutputThatCannotBeWrittenKeepsItsOldCompleteContents() throws IOException {
    String out = root + "/kept";
    convert(out).assertSucceeded();
    Map<String, String> old = TreeSnapshot.of(download("/kept", work.resolve("kept-before")));
    org.apache.hadoop.fs.Path vae = new org.apache.hadoop.fs.Path(out + "/vae");
    ContentSummary names = hdfs.getContentSummary(vae);
    ((DistributedFileSystem) hdfs).setQuota(vae, names.getFileCount() + names.getDirectoryCount(),
        HdfsConstants.QUOTA_DONT_SET);
    CliRun r;
    try {
      r = convert(out, "--overwrite", "--max-shard-size", "200KB"); // new VAE shard names
    } finally {
      ((DistributedFileSystem) hdfs).setQuota(vae, HdfsConstants.QUOTA_RESET, HdfsConstants.QUOTA_DONT_SET);
    }

    assertEquals(1, r.exitCode(), r.err());
    assertTrue(r.err().contains(out + "/vae: cannot write there"), r.err());
    Path after = download("/kept", work.resolve("kept-after"));
    assertEquals(old, TreeSnapshot.of(after), "the old output, byte for byte");
    assertEquals(List.of(), ConvertedFolderCheck.run(after.toString(), ConvertedFolderCheck.DEFAULT_FILE_TIMEOUT).problems());
  }

  private static CliRun convert(String out, String... options) {
    List<Object> args = new ArrayList<>(List.of("convert", "--source", TestPaths.sat("cogvideox-2b-sft"), "--output", out,
        "--hdfs-conf", "dfs.replication=1,dfs.client.use.datanode.hostname=false"));
    args.addAll(List.of(options));
    return CliRun.run(args.toArray());
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
