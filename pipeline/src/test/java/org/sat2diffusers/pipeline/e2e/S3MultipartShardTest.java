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
import org.sat2diffusers.pipeline.write.ShardFileWriter;
import org.sat2diffusers.pipeline.write.ShardFiles;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.OutputTensor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Issue 17: a shard on S3 is one multipart upload whose parts (whole tensors, at least 5 MiB but the
 * last) several threads send; the object is byte for byte the file a sequential write makes, with
 * the same digests, and a failing tensor leaves no object.
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

    ShardFileWriter.Written written = new ShardFiles().write("s3://" + BUCKET + "/out/model.safetensors", tensors,
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
    ShardFileWriter.Written written = new ShardFiles().write("s3://" + BUCKET + "/small/model.safetensors", tensors,
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
        "s3://" + BUCKET + "/broken/model.safetensors", tensors, METADATA, RandomAccessInputs::open, Digest.CRC32C));

    assertTrue(e.getMessage().contains(source.toString()), e.getMessage());
    assertFalse(S3ProxyServer.keys(s3, BUCKET, "broken/").contains("broken/model.safetensors"));
  }
}
