package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.PathStyleS3ClientBuilderFactory;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.pipeline.write.PendingShardUpload;
import org.sat2diffusers.pipeline.write.ShardFileWriter;
import org.sat2diffusers.pipeline.write.ShardFiles;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.OutputTensor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

/**
 * Issue 17: a shard on S3 is one multipart upload whose parts (whole tensors, at least 5 MiB but the
 * last) several threads send; the object is byte for byte the file a sequential write makes, with
 * the same digests, and a failing tensor leaves no object. A shard for the commit is uploaded to its
 * final key and left open, recorded in the staging folder, until the commit completes it.
 */
class S3MultipartShardTest {
  private static final String BUCKET = "multipart";
  private static final Map<String, String> METADATA = Map.of("source", "synthetic");

  @TempDir static Path work;
  private static S3Client s3;
  private static AwsTestCredentials credentials;
  private static S3Options options;
  private static Path source;

  @BeforeAll
  static void startStore() throws Exception {
    S3ProxyServer server = S3ProxyServer.shared();
    s3 = S3ProxyServer.client(server.port());
    s3.createBucket(b -> b.bucket(BUCKET));
    credentials = AwsTestCredentials.set(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY);
    options = PipelineOptionsFactory.as(S3Options.class);
    options.setEndpoint(URI.create("http://127.0.0.1:" + server.port()));
    options.setAwsRegion(Region.US_EAST_1);
    options.setS3ClientFactoryClass(PathStyleS3ClientBuilderFactory.class);
    byte[] bytes = new byte[24 << 20];
    new Random(17).nextBytes(bytes);
    source = work.resolve("source.bin");
    Files.write(source, bytes);
  }

  @BeforeEach
  void useStore() {
    FileSystems.setDefaultPipelineOptions(options); // CLI runs of other tests set their own
  }

  @AfterAll
  static void stop() {
    credentials.close();
    s3.close();
  }

  /**
   * fp16 copies of the source's bytes, from 0 bytes to 9 MiB: two parts of whole tensors (16 MiB or
   * more, then the 6 MiB left).
   */
  private static List<OutputTensor> tensors(long maxBytes) {
    long[] sizes = {2, 9L << 20, 4096, 3L << 20, 0, 5L << 20, 2L << 20, 3L << 20, 10, 1L << 20};
    List<OutputTensor> tensors = new ArrayList<>();
    long offset = 0;
    for (int i = 0; i < sizes.length && offset + sizes[i] <= maxBytes; i++) {
      ByteRange range = new ByteRange(source.toString(), offset, sizes[i]);
      tensors.add(new OutputTensor(Component.TRANSFORMER, "t" + i, Dtype.F16, List.of(sizes[i] / 2), Dtype.F16,
          List.of(range), null, List.of("k" + i)));
      offset += sizes[i];
    }
    return tensors;
  }

  @Test
  void aShardUploadsInPartsAndEqualsTheStreamedFile() throws IOException {
    List<OutputTensor> tensors = tensors(Long.MAX_VALUE);
    Path streamed = work.resolve("streamed.safetensors");
    ShardFileWriter.Written expected;
    try (SeekableByteChannel out = Files.newByteChannel(streamed, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      expected = ShardFileWriter.write(streamed.toString(), tensors, METADATA, RandomAccessInputs::open, out,
          Digest.SHA256);
    }

    ShardFileWriter.Written written = new ShardFiles().write("s3://" + BUCKET + "/out/model.safetensors", null, tensors,
        METADATA, RandomAccessInputs::open, Digest.SHA256);

    assertEquals(expected, written);
    byte[] uploaded = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("out/model.safetensors")).asByteArray();
    assertArrayEquals(Files.readAllBytes(streamed), uploaded);
    String etag = s3.headObject(b -> b.bucket(BUCKET).key("out/model.safetensors")).eTag().replace("\"", "");
    assertTrue(etag.endsWith("-2"), "expected a multipart object of 2 parts, ETag " + etag);
  }

  @Test
  void aSmallShardIsOnePart() throws IOException {
    List<OutputTensor> tensors = tensors(3 << 20);
    ShardFileWriter.Written written = new ShardFiles().write("s3://" + BUCKET + "/small/model.safetensors", null, tensors,
        METADATA, RandomAccessInputs::open, Digest.CRC32C);
    byte[] uploaded = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("small/model.safetensors")).asByteArray();
    assertEquals(written.fileBytes(), uploaded.length);
    assertEquals(tensors.size(), written.tensorDigests().size());
    String etag = s3.headObject(b -> b.bucket(BUCKET).key("small/model.safetensors")).eTag().replace("\"", "");
    assertTrue(etag.endsWith("-1"), "expected a multipart object of 1 part, ETag " + etag);
  }

  @Test
  void aFailingTensorLeavesNoObject() {
    List<OutputTensor> tensors = new ArrayList<>(tensors(Long.MAX_VALUE));
    OutputTensor last = tensors.remove(tensors.size() - 1);
    ByteRange beyond = new ByteRange(source.toString(), 30L << 20, last.byteLength());
    tensors.add(new OutputTensor(last.component(), last.name(), last.dtype(), last.shape(), last.sourceDtype(),
        List.of(beyond), null, last.sourceKeys()));

    IOException e = assertThrows(IOException.class, () -> new ShardFiles().write(
        "s3://" + BUCKET + "/broken/model.safetensors", null, tensors, METADATA, RandomAccessInputs::open, Digest.CRC32C));

    assertTrue(e.getMessage().contains(source.toString()), e.getMessage());
    assertFalse(S3ProxyServer.keys(s3, BUCKET, "broken/").contains("broken/model.safetensors"));
  }

  @Test
  void aShardForTheCommitIsUploadedToItsPlaceAndAppearsOnlyWhenCompleted() throws IOException {
    List<OutputTensor> tensors = tensors(Long.MAX_VALUE);
    Path streamed = work.resolve("streamed-for-commit.safetensors");
    try (SeekableByteChannel out = Files.newByteChannel(streamed, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      ShardFileWriter.write(streamed.toString(), tensors, METADATA, RandomAccessInputs::open, out, Digest.CRC32C);
    }
    String staged = "s3://" + BUCKET + "/commit/.staging/model.safetensors";
    String placed = "s3://" + BUCKET + "/commit/model.safetensors";

    ShardFileWriter.Written written = new ShardFiles().write(staged, placed, tensors, METADATA,
        RandomAccessInputs::open, Digest.CRC32C);

    assertEquals(List.of("commit/.staging/model.safetensors" + PendingShardUpload.SUFFIX),
        S3ProxyServer.keys(s3, BUCKET, "commit"), "only the record is there before the commit");
    assertEquals(List.of("commit/model.safetensors"), openUploads("commit/"));
    PendingShardUpload.complete(PendingShardUpload.recordOf(staged), placed);
    assertArrayEquals(Files.readAllBytes(streamed),
        s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("commit/model.safetensors")).asByteArray());
    assertEquals(Files.size(streamed), written.fileBytes());
    assertEquals(List.of(), openUploads("commit/"));
  }

  @Test
  void abortingARecordedUploadDropsItAndAgainIsNoError() throws IOException {
    String staged = "s3://" + BUCKET + "/dropped/.staging/model.safetensors";
    new ShardFiles().write(staged, "s3://" + BUCKET + "/dropped/model.safetensors", tensors(Long.MAX_VALUE), METADATA,
        RandomAccessInputs::open, Digest.CRC32C);
    assertEquals(List.of("dropped/model.safetensors"), openUploads("dropped/"));

    List<String> files = List.of(staged + "-other", PendingShardUpload.recordOf(staged));
    String stagingDir = "s3://" + BUCKET + "/dropped/.staging";
    PendingShardUpload.abortAll(files, stagingDir, "s3://" + BUCKET + "/dropped");
    PendingShardUpload.abortAll(files, stagingDir, "s3://" + BUCKET + "/dropped");

    assertEquals(List.of(), openUploads("dropped/"));
    assertFalse(S3ProxyServer.keys(s3, BUCKET, "dropped").contains("dropped/model.safetensors"));
    IOException e = assertThrows(IOException.class, () -> PendingShardUpload.complete(PendingShardUpload.recordOf(staged),
        "s3://" + BUCKET + "/dropped/model.safetensors"));
    assertTrue(e.getMessage().contains("dropped/model.safetensors"), e.getMessage());
  }

  @Test
  void aSecondAttemptAtAShardAbortsTheUploadTheFirstLeftOpen() throws IOException {
    String staged = "s3://" + BUCKET + "/again/.staging/model.safetensors";
    String placed = "s3://" + BUCKET + "/again/model.safetensors";
    for (int attempt = 0; attempt < 2; attempt++) { // as a task retried after its executor was lost
      new ShardFiles().write(staged, placed, tensors(Long.MAX_VALUE), METADATA, RandomAccessInputs::open,
          Digest.CRC32C);
    }

    assertEquals(List.of("again/model.safetensors"), openUploads("again/"), "one upload open, the last one");
    PendingShardUpload.complete(PendingShardUpload.recordOf(staged), placed);
    assertEquals(List.of(), openUploads("again/"));
  }

  @Test
  void aRecordNamingAnotherObjectCompletesAndAbortsNothing() throws IOException {
    String victim = "s3://" + BUCKET + "/victim/model.safetensors";
    new ShardFiles().write("s3://" + BUCKET + "/victim/.staging/model.safetensors", victim, tensors(Long.MAX_VALUE),
        METADATA, RandomAccessInputs::open, Digest.CRC32C);
    String planted = "tampered/.staging/model.safetensors" + PendingShardUpload.SUFFIX;
    s3.copyObject(b -> b.sourceBucket(BUCKET).sourceKey("victim/.staging/model.safetensors" + PendingShardUpload.SUFFIX)
        .destinationBucket(BUCKET).destinationKey(planted));
    String record = "s3://" + BUCKET + "/" + planted;

    IOException completing = assertThrows(IOException.class,
        () -> PendingShardUpload.complete(record, "s3://" + BUCKET + "/tampered/model.safetensors"));
    IOException aborting = assertThrows(IOException.class, () -> PendingShardUpload.abortAll(List.of(record),
        "s3://" + BUCKET + "/tampered/.staging", "s3://" + BUCKET + "/tampered"));

    assertTrue(completing.getMessage().contains(victim), completing.getMessage());
    assertTrue(aborting.getMessage().contains("left alone"), aborting.getMessage());
    assertEquals(List.of("victim/model.safetensors"), openUploads("victim/"), "the other upload is untouched");
    assertFalse(S3ProxyServer.keys(s3, BUCKET, "victim").contains("victim/model.safetensors"));
  }

  @Test
  void aFailingTensorLeavesNoUploadOpenAtTheFinalKey() {
    List<OutputTensor> tensors = new ArrayList<>(tensors(Long.MAX_VALUE));
    OutputTensor last = tensors.remove(tensors.size() - 1);
    tensors.add(new OutputTensor(last.component(), last.name(), last.dtype(), last.shape(), last.sourceDtype(),
        List.of(new ByteRange(source.toString(), 30L << 20, last.byteLength())), null, last.sourceKeys()));

    assertThrows(IOException.class, () -> new ShardFiles().write("s3://" + BUCKET + "/failed/.staging/model.safetensors",
        "s3://" + BUCKET + "/failed/model.safetensors", tensors, METADATA, RandomAccessInputs::open, Digest.CRC32C));

    assertEquals(List.of(), openUploads("failed/"));
    assertFalse(S3ProxyServer.keys(s3, BUCKET, "failed").contains("failed/model.safetensors"));
  }

  @Test
  void theNextRunAbortsTheUploadAKilledRunLeftOpenAndConvertsAgain() throws Exception {
    String out = "s3://" + BUCKET + "/killed";
    String shard = "transformer/diffusion_pytorch_model.safetensors";
    new ShardFiles().write(out + "/.sat2diffusers-staging/" + shard, out + "/" + shard, tensors(Long.MAX_VALUE),
        METADATA, RandomAccessInputs::open, Digest.CRC32C); // as a run killed before its commit leaves it
    assertEquals(List.of("killed/" + shard), openUploads("killed/"));

    CliRun.run("convert", "--source", TestPaths.sat("cogvideox-2b-sft"), "--output", out,
        "--s3-endpoint", "http://127.0.0.1:" + S3ProxyServer.shared().port(), "--s3-path-style").assertSucceeded();

    assertEquals(List.of(), openUploads("killed/"));
    List<String> keys = S3ProxyServer.keys(s3, BUCKET, "killed");
    assertTrue(keys.contains("killed/_SUCCESS") && keys.contains("killed/" + shard), keys.toString());
    assertTrue(keys.stream().noneMatch(k -> k.contains(".sat2diffusers-staging")), keys.toString());
    Path downloaded = S3ProxyServer.download(s3, BUCKET, "killed", work.resolve("killed"));
    assertEquals(List.of(), ExpectedTensors.mismatches(downloaded, TestPaths.expected("cogvideox-2b-sft/1000.json")));
  }

  /** The keys of the multipart uploads open under {@code prefix}. */
  private static List<String> openUploads(String prefix) {
    return s3.listMultipartUploads(b -> b.bucket(BUCKET).prefix(prefix)).uploads().stream()
        .map(MultipartUpload::key).sorted().toList();
  }
}
