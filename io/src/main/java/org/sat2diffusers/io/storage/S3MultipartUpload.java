package org.sat2diffusers.io.storage;

import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.io.aws2.s3.S3FileSystemConfiguration;
import org.apache.beam.sdk.io.aws2.s3.SSECustomerKey;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedMultipartUpload;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * One S3 object written as a multipart upload whose parts may be sent by several threads at once,
 * in any order: the object is the parts in part-number order. Created with the settings Beam's own
 * S3 writes use (storage class, server-side encryption of {@code S3Options}); each part carries its
 * Content-MD5, as Beam's do, so the store checks what arrived. Until {@link #complete()} no object
 * exists; closing an upload that did not complete aborts it (the store drops its parts), unless it
 * was {@linkplain #keepOpen() kept open} for a later step (another worker, another process) to
 * {@linkplain #resume resume} and complete or abort.
 */
public final class S3MultipartUpload implements Closeable {
  /** S3's smallest part, except for the last one. */
  public static final long MIN_PART_BYTES = 5L << 20;

  private final String path;
  private final S3Client client;
  private final S3FileSystemConfiguration config;
  private final String bucket;
  private final String key;
  private final String uploadId;
  private final Map<Integer, String> etags = new TreeMap<>();
  /** Completed, aborted or kept open: closing leaves it as it is. */
  private boolean settled;

  private S3MultipartUpload(String path, S3Client client, S3FileSystemConfiguration config, String bucket, String key,
      String uploadId) {
    this.path = path;
    this.client = client;
    this.config = config;
    this.bucket = bucket;
    this.key = key;
    this.uploadId = uploadId;
  }

  /** Starts the upload of {@code s3://bucket/key}. */
  public static S3MultipartUpload start(String path, String contentType) throws IOException {
    URI uri = objectUri(path);
    String key = uri.getPath().substring(1);
    S3Client client = S3Access.client();
    S3FileSystemConfiguration config = S3Access.configuration();
    SSECustomerKey customerKey = config.getSSECustomerKey();
    CreateMultipartUploadRequest.Builder request = CreateMultipartUploadRequest.builder()
        .bucket(uri.getHost()).key(key).contentType(contentType)
        .storageClass(config.getS3StorageClass())
        .serverSideEncryption(config.getSSEAlgorithm())
        .ssekmsKeyId(config.getSSEKMSKeyId())
        .bucketKeyEnabled(config.getBucketKeyEnabled());
    if (customerKey != null && customerKey.getKey() != null) {
      request.sseCustomerAlgorithm(customerKey.getAlgorithm()).sseCustomerKey(customerKey.getKey())
          .sseCustomerKeyMD5(customerKey.getMD5());
    }
    try {
      String id = client.createMultipartUpload(request.build()).uploadId();
      return new S3MultipartUpload(path, client, config, uri.getHost(), key, id);
    } catch (SdkException e) {
      throw S3Errors.of(path, "cannot start an upload", e);
    }
  }

  /**
   * The upload {@code uploadId} of {@code path}, started elsewhere and {@linkplain #keepOpen() kept
   * open}, with the parts it was sent ({@code etags}: part number to ETag), to complete or abort here.
   */
  public static S3MultipartUpload resume(String path, String uploadId, Map<Integer, String> etags) throws IOException {
    URI uri = objectUri(path);
    S3MultipartUpload upload = new S3MultipartUpload(path, S3Access.client(), S3Access.configuration(), uri.getHost(),
        uri.getPath().substring(1), uploadId);
    upload.etags.putAll(etags);
    return upload;
  }

  private static URI objectUri(String path) throws IOException {
    URI uri = URI.create(path);
    if (!"s3".equals(uri.getScheme()) || uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2) {
      throw new IOException(path + " is not an S3 object path (s3://bucket/key)");
    }
    return uri;
  }

  /** The store's name for this upload. */
  public String uploadId() {
    return uploadId;
  }

  /** The parts sent so far: part number to ETag, in part-number order. */
  public Map<Integer, String> etags() {
    synchronized (etags) {
      return new TreeMap<>(etags);
    }
  }

  /** Leaves the upload open when closed: {@link #resume} it to complete or abort it. */
  public void keepOpen() {
    settled = true;
  }

  /** Sends part {@code number} (1 to 10000): {@code length} bytes of {@code bytes}; thread-safe. */
  public void uploadPart(int number, byte[] bytes, int length) throws IOException {
    UploadPartRequest.Builder request = UploadPartRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
        .partNumber(number).contentLength((long) length).contentMD5(md5(bytes, length));
    SSECustomerKey customerKey = config.getSSECustomerKey();
    if (customerKey != null && customerKey.getKey() != null) {
      request.sseCustomerAlgorithm(customerKey.getAlgorithm()).sseCustomerKey(customerKey.getKey())
          .sseCustomerKeyMD5(customerKey.getMD5());
    }
    try {
      // a stream over the array: the SDK neither copies the part nor needs it twice in memory
      String etag = client.uploadPart(request.build(),
          RequestBody.fromContentProvider(() -> new ByteArrayInputStream(bytes, 0, length), length,
              "application/octet-stream")).eTag();
      synchronized (etags) {
        etags.put(number, etag);
      }
    } catch (SdkException e) {
      throw S3Errors.of(path, "cannot upload part " + number, e);
    }
  }

  /**
   * Makes the object from the parts sent, in part-number order, and checks it is there with {@code
   * size} bytes: a store may answer this request 200 and still fail (S3 sends its answer only when
   * done, and keeps the connection alive with blanks until then; an error can come in the body, or a
   * broken store sends none).
   */
  public void complete(long size) throws IOException {
    List<CompletedPart> parts = new ArrayList<>();
    synchronized (etags) {
      etags.forEach((number, etag) -> parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build()));
    }
    try {
      client.completeMultipartUpload(CompleteMultipartUploadRequest.builder().bucket(bucket).key(key)
          .uploadId(uploadId).multipartUpload(CompletedMultipartUpload.builder().parts(parts).build()).build());
      settled = true;
    } catch (SdkException e) {
      throw S3Errors.of(path, "cannot complete the upload", e);
    }
    long stored;
    try {
      stored = client.headObject(HeadObjectRequest.builder().bucket(bucket).key(key).build()).contentLength();
    } catch (SdkException e) {
      throw S3Errors.of(path, "the completed upload is not there", e);
    }
    if (stored != size) {
      throw new IOException(path + ": the completed upload holds " + stored + " bytes, not the " + size + " sent");
    }
  }

  /** Aborts the upload unless it completed or was kept open. */
  @Override
  public void close() throws IOException {
    if (!settled) {
      abort();
    }
  }

  /** Drops the upload and its parts; one the store no longer knows (completed or aborted already) is no error. */
  public void abort() throws IOException {
    try {
      client.abortMultipartUpload(AbortMultipartUploadRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
          .build());
    } catch (SdkException e) {
      if (!(e instanceof S3Exception s3 && s3.statusCode() == 404)) { // 404 NoSuchUpload: nothing left to drop
        throw S3Errors.of(path, "cannot abort the upload", e);
      }
    }
    settled = true;
  }

  private static String md5(byte[] bytes, int length) {
    try {
      MessageDigest md5 = MessageDigest.getInstance("MD5");
      md5.update(bytes, 0, length);
      return Base64.getEncoder().encodeToString(md5.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no MD5", e);
    }
  }
}
