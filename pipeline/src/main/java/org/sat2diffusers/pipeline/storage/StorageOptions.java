package org.sat2diffusers.pipeline.storage;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.io.aws2.options.S3Options;
import org.apache.beam.sdk.io.hdfs.HadoopFileSystemOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.hadoop.conf.Configuration;
import org.sat2diffusers.io.storage.PathStyleS3ClientBuilderFactory;
import picocli.CommandLine.Option;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.AwsProfileRegionProvider;
import software.amazon.awssdk.regions.providers.AwsRegionProviderChain;
import software.amazon.awssdk.regions.providers.SystemSettingsRegionProvider;

/**
 * The picocli mixin for S3 and HDFS settings, turned into Beam's {@link S3Options} and {@link
 * HadoopFileSystemOptions}: they travel with the pipeline options to every worker. Credentials
 * are never options: AWS's default chain (environment, system properties, profile, instance role)
 * finds them where each worker runs.
 */
public final class StorageOptions {
  static {
    // so both are serialized with the options a runner ships to its workers
    PipelineOptionsFactory.register(S3Options.class);
    PipelineOptionsFactory.register(HadoopFileSystemOptions.class);
  }

  /** Hadoop's default file system key; Beam registers hdfs:// for the scheme it names. */
  private static final String DEFAULT_FS = "fs.defaultFS";

  @Option(names = "--s3-endpoint", paramLabel = "URL",
      description = "An S3-compatible store (MinIO, Ceph, a store on loopback, ...) instead of AWS."
          + " Credentials come from AWS's default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile, instance role.")
  URI s3Endpoint;

  @Option(names = "--s3-path-style",
      description = "Address objects as URL/bucket/key instead of bucket.host/key (most S3-compatible stores need it).")
  boolean s3PathStyle;

  @Option(names = "--s3-region", paramLabel = "REGION",
      description = "Default: AWS_REGION (or aws.region) or the profile's region, else us-east-1. The EC2 instance"
          + " metadata service is not asked: on EC2, give it here or in AWS_REGION.")
  String s3Region;

  @Option(names = "--hdfs-conf", split = ",", paramLabel = "KEY=VALUE",
      description = "Hadoop settings (e.g. fs.defaultFS=hdfs://namenode:8020), over those of HADOOP_CONF_DIR when set."
          + " hdfs://HOST:PORT/... paths work without any.")
  Map<String, String> hdfsConf = new LinkedHashMap<>();

  /** Sets the S3 and Hadoop options of {@code options}; returns it. */
  public PipelineOptions applyTo(PipelineOptions options) {
    S3Options s3 = options.as(S3Options.class);
    if (s3Endpoint != null) {
      s3.setEndpoint(s3Endpoint);
    }
    s3.setAwsRegion(s3Region != null ? Region.of(s3Region) : regionWithoutInstanceMetadata());
    if (s3PathStyle) {
      s3.setS3ClientFactoryClass(PathStyleS3ClientBuilderFactory.class);
    }
    HadoopFileSystemOptions hdfs = options.as(HadoopFileSystemOptions.class);
    hdfs.setHdfsConfiguration(List.of(hadoopConfiguration(hdfs.getHdfsConfiguration())));
    return options;
  }

  /**
   * AWS_REGION / aws.region, else the profile's region, else us-east-1 (S3-compatible stores ignore
   * it, the SDK needs one). Never the EC2 instance metadata service: Beam's default would ask it on
   * every run, local ones included, and wait for it off EC2. On EC2, pass --s3-region or AWS_REGION.
   */
  private static Region regionWithoutInstanceMetadata() {
    try {
      return new AwsRegionProviderChain(new SystemSettingsRegionProvider(), new AwsProfileRegionProvider()).getRegion();
    } catch (RuntimeException e) { // SdkClientException: none configured
      return Region.US_EAST_1;
    }
  }

  /** HADOOP_CONF_DIR's configuration (Beam's default) with --hdfs-conf over it, and hdfs:// always known. */
  private Configuration hadoopConfiguration(List<Configuration> fromConfDir) {
    Configuration conf = fromConfDir == null || fromConfDir.isEmpty()
        ? new Configuration(false) : new Configuration(fromConfDir.get(0));
    hdfsConf.forEach(conf::set);
    String defaultFs = conf.get(DEFAULT_FS);
    if (defaultFs == null || defaultFs.isEmpty() || defaultFs.startsWith("file:")) {
      conf.set(DEFAULT_FS, "hdfs:///"); // registers hdfs:// for full URIs (a file: default would clash with local paths)
    }
    return conf;
  }
}
