package org.sat2diffusers.io.storage;

import java.util.List;
import org.apache.beam.sdk.io.FileSystem;
import org.apache.beam.sdk.io.FileSystemRegistrar;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.io.aws2.s3.S3FileSystemConfiguration;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The S3 client for ranged reads, built from the same {@link S3Options} (endpoint, region,
 * credentials, path style) as Beam's own S3 file system. Beam hands those options to every {@link
 * FileSystemRegistrar} whenever {@code FileSystems} is configured, in the driver and in each worker:
 * {@link Registrar} is how they reach this class.
 */
public final class S3Access {
  private static PipelineOptions options;
  private static S3Client client;

  private S3Access() {}

  /** The client for the options {@code FileSystems} was last configured with; built once per options. */
  static synchronized S3Client client() {
    if (client == null) {
      PipelineOptions current = options != null ? options : PipelineOptionsFactory.create();
      client = S3FileSystemConfiguration.fromS3Options(current.as(S3Options.class)).getS3ClientBuilder().build();
    }
    return client;
  }

  /** Beam's S3 settings (storage class, server-side encryption) for the same options as {@link #client()}. */
  static synchronized S3FileSystemConfiguration configuration() {
    PipelineOptions current = options != null ? options : PipelineOptionsFactory.create();
    return S3FileSystemConfiguration.fromS3Options(current.as(S3Options.class));
  }

  private static synchronized void configure(PipelineOptions newOptions) {
    if (newOptions == options) {
      return;
    }
    if (client != null) {
      client.close();
      client = null;
    }
    options = newOptions;
  }

  /** Registers no file system: only takes note of the options Beam configures file systems with. */
  public static final class Registrar implements FileSystemRegistrar {
    @Override
    public Iterable<FileSystem<?>> fromOptions(PipelineOptions options) {
      configure(options);
      return List.of();
    }
  }
}
