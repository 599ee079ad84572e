package org.sat2diffusers.io.storage;

import java.io.IOException;
import java.net.URI;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * S3's conditional write: a PUT with {@code If-None-Match: *} creates the object only if no object
 * of that key exists (HTTP 412 otherwise; 409 when a concurrent write of the key is under way).
 * AWS S3 has honoured it since 2024, S3Proxy 2.9 too (it checks, then puts); the SDK version Beam
 * brings predates the request field, so the header is added to the request directly.
 */
public final class S3CreateIfAbsent {
  /** Conditional PUTs whose answer was lost in transit before giving up. */
  private static final int ATTEMPTS = 5;

  private S3CreateIfAbsent() {}

  private static boolean exists(String bucket, String key) {
    try {
      S3Access.client().headObject(HeadObjectRequest.builder().bucket(bucket).key(key).build());
      return true;
    } catch (SdkException e) {
      return false;
    }
  }

  /** Creates {@code s3://bucket/key} holding {@code bytes}; false when the object already exists. */
  public static boolean create(String path, byte[] bytes) throws IOException {
    URI uri = URI.create(path);
    String key = uri.getPath().isEmpty() ? "" : uri.getPath().substring(1);
    PutObjectRequest request = PutObjectRequest.builder().bucket(uri.getHost()).key(key)
        .overrideConfiguration(AwsRequestOverrideConfiguration.builder().putHeader("If-None-Match", "*").build())
        .build();
    SdkException lost = null;
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        S3Access.client().putObject(request, RequestBody.fromBytes(bytes));
        return true;
      } catch (S3Exception e) {
        if (e.statusCode() == 412 || e.statusCode() == 409) {
          return false;
        }
        throw S3Errors.of(path, "cannot create", e);
      } catch (SdkException e) {
        // S3Proxy answers 412 before reading the body and closes the connection: the client sees a
        // broken pipe and cannot tell the answer. An object there now (ours or another's) is what
        // the caller reads next; none (e.g. its holder released it meanwhile): ask again.
        if (exists(uri.getHost(), key)) {
          return false;
        }
        lost = e;
      }
    }
    throw S3Errors.of(path, "cannot create", lost);
  }
}
