package org.sat2diffusers.io.storage;

import java.io.FileNotFoundException;
import java.io.IOException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * S3 failures as messages that name the object and say what to check. Built from status codes and
 * S3 error codes only: neither the request (signed with the credentials) nor the credentials appear.
 */
final class S3Errors {
  private S3Errors() {}

  static IOException of(String path, String action, SdkException e) {
    if (e instanceof NoSuchKeyException) {
      return new FileNotFoundException(path + ": no such object");
    }
    if (e instanceof NoSuchBucketException) {
      return new FileNotFoundException(path + ": the bucket does not exist");
    }
    if (e instanceof S3Exception s3) {
      String code = s3.awsErrorDetails() == null ? null : s3.awsErrorDetails().errorCode();
      String what = switch (s3.statusCode()) {
        case 404 -> "not found (no such object, or no such bucket)";
        case 401, 403 -> "access denied (HTTP " + s3.statusCode() + (code == null ? "" : ", " + code)
            + "): check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile or role)"
            + " and their permissions";
        default -> "the store answered HTTP " + s3.statusCode() + (code == null ? "" : " " + code);
      };
      return s3.statusCode() == 404 ? new FileNotFoundException(path + ": " + what)
          : new IOException(path + ": " + action + ": " + what);
    }
    return new IOException(path + ": " + action + ": " + e.getMessage(), e);
  }
}
