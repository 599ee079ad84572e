package org.sat2diffusers.io.storage;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;

/**
 * An S3 object read with one bounded ranged GET per {@link #readFully} call, so the store sends
 * exactly the bytes asked for. (Beam's S3 channel asks for everything from the position to the end
 * of the object and buffers 1 MiB ahead: each seek costs up to the rest of the file.)
 */
final class S3ObjectInput implements RandomAccessInput {
  private final String path;
  private final S3Client client;
  private final String bucket;
  private final String key;
  private final long size;

  private S3ObjectInput(String path, S3Client client, String bucket, String key, long size) {
    this.path = path;
    this.client = client;
    this.bucket = bucket;
    this.key = key;
    this.size = size;
  }

  /** Opens {@code s3://bucket/key}: asks the store for the object's size. */
  static S3ObjectInput open(String path) throws IOException {
    URI uri = URI.create(path);
    String bucket = uri.getHost();
    String key = uri.getPath().isEmpty() ? "" : uri.getPath().substring(1);
    if (bucket == null || key.isEmpty()) {
      throw new IOException(path + " is not an S3 object path (s3://bucket/key)");
    }
    S3Client client = S3Access.client();
    try {
      long size = client.headObject(HeadObjectRequest.builder().bucket(bucket).key(key).build()).contentLength();
      return new S3ObjectInput(path, client, bucket, key, size);
    } catch (SdkException e) {
      throw S3Errors.of(path, "cannot open", e);
    }
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public void readFully(long position, byte[] buffer, int offset, int length) throws IOException {
    if (position < 0 || length < 0 || position > size - length) {
      throw new EOFException(
          path + ": cannot read " + length + " bytes at offset " + position + ", the object has " + size + " bytes");
    }
    if (length == 0) {
      return;
    }
    String range = "bytes=" + position + "-" + (position + length - 1);
    GetObjectRequest request = GetObjectRequest.builder().bucket(bucket).key(key).range(range).build();
    try (InputStream in = client.getObject(request)) {
      int read = in.readNBytes(buffer, offset, length);
      if (read < length) {
        throw new EOFException(path + ": the store sent " + read + " of the " + length + " bytes at offset "
            + position + " (the object may have changed while it was read)");
      }
    } catch (SdkException e) {
      throw S3Errors.of(path, "cannot read " + length + " bytes at offset " + position, e);
    } catch (EOFException e) {
      throw e;
    } catch (IOException e) {
      throw new IOException(path + ": reading " + length + " bytes at offset " + position + " failed: "
          + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    // the client is shared; each read's response is closed after it
  }
}
