package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Issue 16 on S3: a {@code to-sat --manifest} kept on S3 writes a Diffusers folder on S3 as a SAT run on
 * S3 and as one on local disk, each checkpoint byte for byte what the single-folder command writes locally.
 */
class ToSatS3Test {
  private static final String BUCKET = "to-sat";
  private static final String CHECKPOINT = "3/mp_rank_00_model_states.pt";

  @TempDir Path work;

  @Test
  void aManifestOnS3WritesSatRunsToS3AndToLocalDisk() throws Exception {
    Path diffusers = work.resolve("diffusers");
    CliRun.run(FixtureConversion.I2V_RELEASE.arguments(diffusers)).assertSucceeded();
    Path alone = work.resolve("alone");
    CliRun.run("to-sat", "--source", diffusers, "--output", alone, "--iteration", "3").assertSucceeded();

    S3ProxyServer server = S3ProxyServer.shared();
    try (S3Client s3 = S3ProxyServer.client(server.port());
        AwsTestCredentials credentials = AwsTestCredentials.set(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)) {
      s3.createBucket(b -> b.bucket(BUCKET));
      S3ProxyServer.upload(s3, diffusers, BUCKET, "diffusers/release");
      Path local = work.resolve("local");
      s3.putObject(b -> b.bucket(BUCKET).key("jobs.yaml"), RequestBody.fromString("""
          - kind: to-sat
            source: diffusers/release
            output: sat/release
            iteration: 3
          - kind: to-sat
            source: diffusers/release
            output: %s
            iteration: 3
          """.formatted(local)));
      CliRun.run("to-sat", "--manifest", "s3://" + BUCKET + "/jobs.yaml", "--s3-endpoint",
          "http://127.0.0.1:" + server.port(), "--s3-path-style").assertSucceeded().assertNoStackTrace();

      Path fromS3 = S3ProxyServer.download(s3, BUCKET, "sat/release", work.resolve("downloaded"));
      List<String> keys = S3ProxyServer.keys(s3, BUCKET, "sat/release");
      assertTrue(keys.stream().noneMatch(k -> k.contains(".sat2diffusers-")), "staging or lock left: " + keys);
      byte[] expected = Files.readAllBytes(alone.resolve(CHECKPOINT));
      assertArrayEquals(expected, Files.readAllBytes(fromS3.resolve(CHECKPOINT)), "s3 -> s3");
      assertArrayEquals(expected, Files.readAllBytes(local.resolve(CHECKPOINT)), "s3 -> local");
      assertEquals("3", Files.readString(fromS3.resolve("latest")));
      assertEquals(Files.readString(alone.resolve("model_config.yaml")), Files.readString(fromS3.resolve("model_config.yaml")));
    }
  }
}
