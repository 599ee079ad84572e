package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.sat2diffusers.pipeline.e2e.TrainingExpectations.training;
import static org.sat2diffusers.pipeline.e2e.TrainingExpectations.transformerMismatches;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.io.deepspeed.ZeroCheckpoint;
import org.sat2diffusers.io.torch.TensorRecipe;
import org.sat2diffusers.pipeline.testing.TestPaths;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Issue 15 on S3: DeepSpeed ZeRO engine saves and SAT z3 ranks read from s3:// (ranged GETs through
 * S3Proxy) convert to the tensors they give locally, and a dry run of them fetches no master's bytes.
 */
class ZeroS3ConversionTest {
  private static final String BUCKET = "training";

  @TempDir static Path work;
  private static HttpCountingProxy proxy;
  private static S3Client s3;
  private static AwsTestCredentials credentials;

  @BeforeAll
  static void startStore() throws Exception {
    S3ProxyServer server = S3ProxyServer.shared();
    proxy = new HttpCountingProxy(server.port());
    s3 = S3ProxyServer.client(server.port());
    s3.createBucket(b -> b.bucket(BUCKET));
    for (String folder : List.of("deepspeed/z2-dp4-fp16-full-ema", "deepspeed/z3-dp2-bf16-full",
        "sat-z3/cogvideox-5b-i2v-release-z3dp3")) {
      S3ProxyServer.upload(s3, training(folder), BUCKET, folder);
    }
    credentials = AwsTestCredentials.set(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
  }

  @AfterAll
  static void stop() throws IOException {
    credentials.close();
    proxy.close();
    s3.close();
  }

  private static CliRun convert(Object... args) {
    List<Object> all = new ArrayList<>(List.of("convert"));
    all.addAll(List.of(args));
    all.addAll(S3ConversionTest.storeOptions(proxy));
    return CliRun.run(all.toArray());
  }

  @ParameterizedTest
  @ValueSource(strings = {"z2-dp4-fp16-full-ema", "z3-dp2-bf16-full"})
  void fp32MastersFromS3AreWhatZeroToFp32Gives(String zeroCase) throws IOException {
    Path out = work.resolve(zeroCase);
    convert("--source", "s3://" + BUCKET + "/deepspeed/" + zeroCase, "--output", out, "--weights", "fp32-master",
        "--model", "cogvideox-2b").assertSucceeded().assertNoStackTrace();
    assertEquals(List.of(), transformerMismatches(out, training("expected/deepspeed/" + zeroCase + ".zero_to_fp32.json")));
  }

  @Test
  void satZero3RanksFromS3ConvertToTheirModule() throws IOException {
    Path out = work.resolve("sat-z3");
    convert("--source", "s3://" + BUCKET + "/sat-z3/cogvideox-5b-i2v-release-z3dp3/transformer", "--output", out)
        .assertSucceeded();
    assertEquals(List.of(), ExpectedTensors.mismatches(out, TestPaths.expected("cogvideox-5b-i2v-release/transformer.json")));
  }

  /**
   * A dry run reads pickles and headers only: what it fetches, plus the masters' bytes, is no more than
   * what the conversion then fetches (which reads the same pickles and every master once).
   */
  @Test
  void aDryRunFetchesNoMasterBytes() throws IOException {
    String source = "s3://" + BUCKET + "/deepspeed/z3-dp2-bf16-full";
    long masterBytes = ZeroCheckpoint.open(training("deepspeed/z3-dp2-bf16-full").toString()).fp32Master().stream()
        .mapToLong(TensorRecipe::byteLength).sum();
    proxy.resetCounts();
    convert("--source", source, "--output", work.resolve("dry"), "--weights", "fp32-master", "--model",
        "cogvideox-2b", "--dry-run").assertSucceeded();
    long dryRun = proxy.objectBodyBytes();
    proxy.resetCounts();
    convert("--source", source, "--output", work.resolve("converted"), "--weights", "fp32-master", "--model",
        "cogvideox-2b").assertSucceeded();
    long conversion = proxy.objectBodyBytes();
    String numbers = String.format("dry run fetched %d bytes, the conversion %d, the masters are %d", dryRun,
        conversion, masterBytes);
    System.out.println("S3 bytes: " + numbers);
    assertTrue(dryRun + masterBytes <= conversion, numbers);
  }
}
