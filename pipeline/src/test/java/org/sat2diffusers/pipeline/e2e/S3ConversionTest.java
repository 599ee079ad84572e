package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.storage.CountingRandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchCheckpointReader;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.records.SourceTensor;
import org.sat2diffusers.transforms.route.ComponentRouter;
import org.sat2diffusers.transforms.route.RoutedTensor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * Issue 5, S3: the fixtures converted s3:// to s3:// and s3:// to local, from a manifest that is itself
 * on S3; a discovery run over an s3:// root, verified where it is; and what S3Proxy served for one
 * conversion compared with the bytes the conversion needs.
 */
class S3ConversionTest {
  private static final String BUCKET = "conversions";

  @TempDir static Path work;
  private static HttpCountingProxy proxy;
  private static S3Client s3;
  private static AwsTestCredentials credentials;

  @BeforeAll
  static void startStore() throws Exception {
    S3ProxyServer server = S3ProxyServer.shared();
    proxy = new HttpCountingProxy(server.port());
    s3 = S3ProxyServer.client(server.port()); // the test's own traffic bypasses the counting proxy
    s3.createBucket(b -> b.bucket(BUCKET));
    S3ProxyServer.upload(s3, TestPaths.sat(), BUCKET, "sat");
    for (String run : List.of("cogvideox-2b-sft", "cogvideox1.5-5b-i2v-lora")) {
      S3ProxyServer.upload(s3, TestPaths.sat(run), BUCKET, "runs/" + run);
    }
    credentials = AwsTestCredentials.set(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
  }

  @AfterAll
  static void stop() throws IOException {
    credentials.close();
    proxy.close();
    s3.close();
  }

  static List<Object> storeOptions(HttpCountingProxy proxy) {
    return List.of("--s3-endpoint", "http://127.0.0.1:" + proxy.port(), "--s3-path-style");
  }

  @Test
  void everyFixtureConvertsFromS3ToS3AndToLocalFromAManifestOnS3() throws IOException {
    Path local = work.resolve("local");
    JobsYaml yaml = new JobsYaml();
    for (FixtureConversion c : FixtureConversion.values()) {
      yaml.job("source", "sat/" + c.source, "out/" + c.name(), c.options); // relative to the manifest's folder
      yaml.job("source", "sat/" + c.source, local.resolve(c.name()).toString(), c.options);
    }
    s3.putObject(b -> b.bucket(BUCKET).key("jobs.yaml"), RequestBody.fromString(yaml.toString()));

    List<Object> args = new ArrayList<>(List.of("convert", "--manifest", "s3://" + BUCKET + "/jobs.yaml"));
    args.addAll(storeOptions(proxy));
    CliRun.run(args.toArray()).assertSucceeded().assertNoStackTrace();

    List<Executable> checks = new ArrayList<>();
    for (FixtureConversion c : FixtureConversion.values()) {
      Path fromS3 = S3ProxyServer.download(s3, BUCKET, "out/" + c.name(), work.resolve("downloaded").resolve(c.name()));
      List<String> keys = S3ProxyServer.keys(s3, BUCKET, "out/" + c.name());
      checks.add(() -> assertTrue(keys.contains("out/" + c.name() + "/_SUCCESS"), c + ": no commit marker in " + keys));
      checks.add(() -> assertTrue(keys.stream().noneMatch(k -> k.contains(".sat2diffusers-staging")),
          c + ": staging objects left: " + keys));
      List<String> open = s3.listMultipartUploads(b -> b.bucket(BUCKET).prefix("out/" + c.name() + "/")).uploads()
          .stream().map(MultipartUpload::key).toList();
      checks.add(() -> assertEquals(List.of(), open, c + ": uploads left open"));
      for (Path manifest : c.manifests()) {
        checks.add(() -> assertEquals(List.of(), ExpectedTensors.mismatches(fromS3, manifest), c + " s3 -> s3"));
        checks.add(() -> assertEquals(List.of(), ExpectedTensors.mismatches(local.resolve(c.name()), manifest),
            c + " s3 -> local"));
      }
    }
    assertAll(checks);
  }

  @Test
  void aDiscoveryRunOverAnS3RootConvertsEveryRunAndVerifyChecksOneOnTheStore() throws IOException {
    List<Object> args = new ArrayList<>(List.of("convert", "--source-root", "s3://" + BUCKET + "/runs",
        "--output", "s3://" + BUCKET + "/discovered"));
    args.addAll(storeOptions(proxy));
    CliRun.run(args.toArray()).assertSucceeded();
    List<Object> verify = new ArrayList<>(List.of("verify", "s3://" + BUCKET + "/discovered/cogvideox-2b-sft/1000"));
    verify.addAll(storeOptions(proxy));
    CliRun verified = CliRun.run(verify.toArray()).assertSucceeded();

    Path sft = S3ProxyServer.download(s3, BUCKET, "discovered/cogvideox-2b-sft/1000", work.resolve("d-sft"));
    Path lora = S3ProxyServer.download(s3, BUCKET, "discovered/cogvideox1.5-5b-i2v-lora/300", work.resolve("d-lora"));
    assertAll(
        () -> assertTrue(Files.exists(sft.resolve("_SUCCESS")), "cogvideox-2b-sft not committed"),
        () -> assertTrue(verified.out().contains("all as recorded"), "verify on the store: " + verified.out()),
        () -> assertTrue(Files.exists(lora.resolve("_SUCCESS")), "cogvideox1.5-5b-i2v-lora not committed"),
        // the fingerprint of an S3 source is its ETag (the object's MD5 for a plain PUT), which any rewrite changes
        () -> assertTrue(TestData.json(sft.resolve("_SUCCESS")).path("sources").path(0).path("checksum").asText()
            .matches("\"?[0-9a-f]{32}\"?"), "the marker records no ETag"),
        () -> assertEquals(List.of(), ExpectedTensors.mismatches(sft, TestPaths.expected("cogvideox-2b-sft/1000.json"))),
        () -> assertEquals(List.of(),
            ExpectedTensors.mismatches(lora, TestPaths.expected("cogvideox1.5-5b-i2v-lora/300.alpha1.json"))));
  }

  /**
   * What a conversion needs from the checkpoint: the zip directory, data.pkl and the local headers
   * (what indexing reads, counted on the local copy) plus the bytes of every tensor it writes.
   */
  @Test
  void theStoreServesAboutTheBytesTheConversionNeeds() throws IOException {
    Path file = TestPaths.sat("cogvideox-2b-sft/1000/mp_rank_00_model_states.pt");
    CheckpointIndex index;
    long indexBytes;
    try (CountingRandomAccessInput in = new CountingRandomAccessInput(RandomAccessInputs.open(file.toString()))) {
      index = new TorchCheckpointReader().index(in);
      indexBytes = in.bytesRead();
    }
    List<SourceTensor> sources = new ArrayList<>();
    for (TensorRecord t : index.tensors()) {
      sources.add(new SourceTensor(file.toString(), t));
    }
    long tensorBytes = ComponentRouter.route(sources).stream().filter(RoutedTensor::routed)
        .mapToLong(r -> r.source().tensor().byteLength()).sum();
    long needed = tensorBytes + indexBytes;

    proxy.resetCounts();
    List<Object> args = new ArrayList<>(List.of("convert", "--source", "s3://" + BUCKET + "/sat/cogvideox-2b-sft",
        "--output", work.resolve("counted")));
    args.addAll(storeOptions(proxy));
    CliRun.run(args.toArray()).assertSucceeded();

    long served = proxy.objectBodyBytes();
    String numbers = String.format("served %d object bytes (%d on the wire), needed %d = tensors %d + index %d;"
        + " the file has %d", served, proxy.rawBytes(), needed, tensorBytes, indexBytes, Files.size(file));
    System.out.println("S3 bytes: " + numbers);
    assertTrue(served >= tensorBytes, numbers);
    assertTrue(served <= needed * 1.10, numbers);
  }
}
