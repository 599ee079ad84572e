package org.sat2diffusers.pipeline.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * S3Proxy (a real S3 REST server over an in-memory store) run from its jar-with-dependencies as a
 * process of its own on 127.0.0.1, started once for all the tests of the JVM and stopped with it.
 * Tests reach it through an {@link HttpCountingProxy} each.
 */
final class S3ProxyServer {
  static final String ACCESS_KEY = "sat2diffusers-test-key";
  static final String SECRET_KEY = "s3cr3t-never-printed-4c1f";

  private static S3ProxyServer shared;

  private final Process process;
  private final int port;

  private S3ProxyServer(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  static synchronized S3ProxyServer shared() throws IOException, InterruptedException {
    if (shared == null) {
      shared = start(Files.createTempDirectory("s3proxy"));
      Runtime.getRuntime().addShutdownHook(new Thread(shared.process::destroy));
    }
    return shared;
  }

  int port() {
    return port;
  }

  private static S3ProxyServer start(Path dir) throws IOException, InterruptedException {
    String jar = System.getProperty("s3proxy.jar");
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException("no S3Proxy jar at the s3proxy.jar property (" + jar
          + "): Maven's process-test-resources phase copies it to pipeline/target/s3proxy/");
    }
    int port = freePort();
    Path conf = dir.resolve("s3proxy.conf");
    Files.writeString(conf, String.join("\n",
        "s3proxy.endpoint=http://127.0.0.1:" + port,
        "s3proxy.authorization=aws-v2-or-v4",
        "s3proxy.identity=" + ACCESS_KEY,
        "s3proxy.credential=" + SECRET_KEY,
        "s3proxy.ignore-unknown-headers=true", // Beam sends x-amz-server-side-encryption-bucket-key-enabled
        "jclouds.provider=transient",
        "jclouds.identity=unused",
        "jclouds.credential=unused", ""));
    Path log = dir.resolve("s3proxy.log");
    Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar, "--properties", conf.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("S3Proxy exited:\n" + Files.readString(log));
      }
      try (Socket probe = new Socket(InetAddress.getLoopbackAddress(), port)) {
        return new S3ProxyServer(process, port);
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    process.destroy();
    throw new IllegalStateException("S3Proxy did not listen on " + port + " within 60 s:\n" + Files.readString(log));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** An S3 client of the test's own (not the converter's), with the right credentials, through {@code port}. */
  static S3Client client(int port) {
    return S3Client.builder()
        .endpointOverride(URI.create("http://127.0.0.1:" + port))
        .region(Region.US_EAST_1)
        .forcePathStyle(true)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .build();
  }

  /** Uploads the files below {@code folder} to {@code s3://bucket/prefix/...}. */
  static void upload(S3Client s3, Path folder, String bucket, String prefix) {
    try (Stream<Path> files = Files.walk(folder)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        s3.putObject(b -> b.bucket(bucket).key(prefix + "/" + folder.relativize(f).toString().replace('\\', '/')),
            RequestBody.fromFile(f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Downloads every object below {@code s3://bucket/prefix/} into {@code to}; returns {@code to}. */
  static Path download(S3Client s3, String bucket, String prefix, Path to) throws IOException {
    for (String key : keys(s3, bucket, prefix)) {
      Path target = to.resolve(key.substring(prefix.length() + 1));
      Files.createDirectories(target.getParent());
      Files.write(target, s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray());
    }
    return to;
  }

  /** The keys below {@code s3://bucket/prefix/}, sorted. */
  static List<String> keys(S3Client s3, String bucket, String prefix) {
    return s3.listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).prefix(prefix + "/").build())
        .contents().stream().map(S3Object::key).sorted().toList();
  }
}
