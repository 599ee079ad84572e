package org.sat2diffusers.io.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * S3's compare-and-swap for a small object: read its text together with the ETag of that version,
 * then replace it with a PUT carrying {@code If-Match: <ETag>}, which the store refuses once the
 * object has changed (HTTP 412) or gone (404). AWS S3 honours If-Match on PUT since November 2024;
 * S3Proxy 2.9 too, by a look and then a put, so two replaces of one version racing there may both
 * land (the later one stays): a caller reads the object back after a pause to see whose text stayed.
 * S3Proxy 2.9 ignores If-Match on DELETE, so nothing here deletes. As with {@link S3CreateIfAbsent},
 * the header is added to the request directly (the SDK Beam brings predates the request field).
 */
public final class S3ConditionalReplace {
  private S3ConditionalReplace() {}

  /** One version of an object: its text and its ETag. */
  public record Version(String text, String eTag) {}

  /** The object's text (a larger one is an error naming it) and ETag, or empty when there is no such object. */
  public static Optional<Version> read(String path, int maxBytes) throws IOException {
    URI uri = URI.create(path);
    GetObjectRequest request = GetObjectRequest.builder().bucket(uri.getHost()).key(key(uri)).build();
    byte[] bytes;
    String eTag;
    try (ResponseInputStream<GetObjectResponse> in = S3Access.client().getObject(request)) {
      eTag = in.response().eTag();
      bytes = in.readNBytes(maxBytes + 1);
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (SdkException e) {
      throw S3Errors.of(path, "cannot read", e);
    }
    if (bytes.length > maxBytes) {
      throw new FileTooLargeException(path + " is larger than the " + maxBytes + " bytes expected of it");
    }
    return Optional.of(new Version(new String(bytes, StandardCharsets.UTF_8), eTag));
  }

  /**
   * Replaces the object at {@code path} by {@code text} if it is still {@code seen}; false when it has
   * changed or gone since (then nothing is written), or when the SDK retried a PUT that had landed
   * (the retry is refused): a caller tells its own text by reading the object back.
   */
  public static boolean replace(String path, Version seen, String text) throws IOException {
    URI uri = URI.create(path);
    PutObjectRequest request = PutObjectRequest.builder().bucket(uri.getHost()).key(key(uri))
        .overrideConfiguration(AwsRequestOverrideConfiguration.builder().putHeader("If-Match", seen.eTag()).build())
        .build();
    try {
      S3Access.client().putObject(request, RequestBody.fromString(text, StandardCharsets.UTF_8));
      return true;
    } catch (S3Exception e) {
      if (e.statusCode() == 412 || e.statusCode() == 404 || e.statusCode() == 409) {
        return false;
      }
      throw S3Errors.of(path, "cannot replace", e);
    } catch (SdkException e) {
      // S3Proxy refuses before reading the body and closes the connection (a broken pipe here):
      // whether the object holds our text now tells
      try {
        return read(path, text.getBytes(StandardCharsets.UTF_8).length).map(v -> v.text().equals(text)).orElse(false);
      } catch (FileTooLargeException other) {
        return false;
      }
    }
  }

  private static String key(URI uri) {
    return uri.getPath().isEmpty() ? "" : uri.getPath().substring(1);
  }
}
