package org.sat2diffusers.pipeline.e2e;

/**
 * Credentials for AWS's default chain, as system properties ({@code aws.accessKeyId}, {@code
 * aws.secretAccessKey}: the chain's first source), restored on close.
 */
final class AwsTestCredentials implements AutoCloseable {
  private static final String KEY = "aws.accessKeyId";
  private static final String SECRET = "aws.secretAccessKey";

  private final String previousKey;
  private final String previousSecret;

  private AwsTestCredentials(String previousKey, String previousSecret) {
    this.previousKey = previousKey;
    this.previousSecret = previousSecret;
  }

  static AwsTestCredentials set(String accessKey, String secretKey) {
    AwsTestCredentials previous = new AwsTestCredentials(System.getProperty(KEY), System.getProperty(SECRET));
    System.setProperty(KEY, accessKey);
    System.setProperty(SECRET, secretKey);
    return previous;
  }

  @Override
  public void close() {
    restore(KEY, previousKey);
    restore(SECRET, previousSecret);
  }

  private static void restore(String name, String value) {
    if (value == null) {
      System.clearProperty(name);
    } else {
      System.setProperty(name, value);
    }
  }
}
