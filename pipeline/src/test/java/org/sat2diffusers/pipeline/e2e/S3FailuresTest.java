package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Issue 5, S3 failures: wrong credentials, a missing bucket, a missing path and a server that goes
 * away in the middle of a read each end the run with an error naming the path, never print a
 * secret, and leave nothing committed.
 */
class S3FailuresTest {
  private static final String BUCKET = "failures";
  private static final String SOURCE = "s3://" + BUCKET + "/sat/cogvideox-2b-sft";
  private static final String WRONG_SECRET = "wr0ng-s3cret-also-never-printed";

  @TempDir Path work;
  private static S3ProxyServer server;
  private static S3Client s3;

  @BeforeAll
  static void startStore() throws Exception {
    server = S3ProxyServer.shared();
    s3 = S3ProxyServer.client(server.port());
    s3.createBucket(b -> b.bucket(BUCKET));
    S3ProxyServer.upload(s3, TestPaths.sat("cogvideox-2b-sft"), BUCKET, "sat/cogvideox-2b-sft");
  }

  @AfterAll
  static void stop() {
    s3.close();
  }

  @Test
  void wrongCredentials() throws IOException {
    CliRun run = convert(SOURCE, S3ProxyServer.ACCESS_KEY, WRONG_SECRET, null);
    assertFailedCleanly(run, SOURCE);
    assertTrue(run.err().contains("access denied"), run.err());
  }

  @Test
  void missingBucket() throws IOException {
    String source = "s3://no-such-bucket/sat/cogvideox-2b-sft";
    assertFailedCleanly(convert(source, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, null), source);
  }

  @Test
  void missingPath() throws IOException {
    String source = "s3://" + BUCKET + "/sat/no-such-run";
    assertFailedCleanly(convert(source, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, null), source);
  }

  /** The index (directory and data.pkl, about 60 KB here) is read whole; the cut falls among the tensors. */
  @Test
  void serverGoneInTheMiddleOfARead() throws IOException {
    CliRun run = convert(SOURCE, S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY, 200_000L);
    assertFailedCleanly(run, SOURCE + "/1000/mp_rank_00_model_states.pt");
  }

  private CliRun convert(String source, String accessKey, String secretKey, Long dieAfterBytes) throws IOException {
    try (HttpCountingProxy proxy = new HttpCountingProxy(server.port());
        AwsTestCredentials credentials = AwsTestCredentials.set(accessKey, secretKey)) {
      if (dieAfterBytes != null) {
        proxy.dieAfterObjectBytes(dieAfterBytes);
      }
      List<Object> args = new ArrayList<>(List.of("convert", "--source", source, "--output", work.resolve("out")));
      args.addAll(S3ConversionTest.storeOptions(proxy));
      return CliRun.run(args.toArray());
    }
  }

  private void assertFailedCleanly(CliRun run, String path) throws IOException {
    String output = run.out() + run.err();
    assertAll(
        () -> assertNotEquals(0, run.exitCode(), "exit code\n" + output),
        () -> assertTrue(output.contains(path), "no mention of " + path + " in\n" + output),
        () -> assertFalse(output.contains(S3ProxyServer.SECRET_KEY), "the secret key is printed:\n" + output),
        () -> assertFalse(output.contains(WRONG_SECRET), "the (wrong) secret key is printed:\n" + output),
        () -> assertEquals(List.of(), OutputFolders.committedFiles(work.resolve("out")), "committed output"));
  }
}
