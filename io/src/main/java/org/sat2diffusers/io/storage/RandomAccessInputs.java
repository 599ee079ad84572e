package org.sat2diffusers.io.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;

/**
 * Opens any path or URI Beam's {@link FileSystems} knows (local paths, {@code file://}, and, once
 * their file systems are registered, {@code s3://}, {@code hdfs://}, {@code gs://}) as a {@link
 * RandomAccessInput}. The readers only seek and read, so a new scheme needs nothing here; {@code
 * s3://} objects are read with bounded ranged GETs instead of Beam's channel.
 */
public final class RandomAccessInputs {
  private RandomAccessInputs() {}

  /** Opens {@code pathOrUri}; {@link RandomAccessInput#path()} returns it unchanged. */
  public static RandomAccessInput open(String pathOrUri) throws IOException {
    if (pathOrUri.startsWith("s3://")) {
      return S3ObjectInput.open(pathOrUri); // bounded ranges: see there
    }
    ResourceId resource = FileSystems.matchNewResource(beamSpec(pathOrUri), false);
    ReadableByteChannel channel = FileSystems.open(resource);
    if (!(channel instanceof SeekableByteChannel seekable)) {
      channel.close();
      throw new IOException(
          "cannot read " + pathOrUri + " at random positions: its file system gives a "
              + channel.getClass().getName() + ", not a SeekableByteChannel");
    }
    return new ChannelInput(pathOrUri, seekable);
  }

  /**
   * Opens a local file only if it is a regular file itself: not a symbolic link (checked without
   * following it, and the open refuses one too), not a FIFO, socket, device or folder, whose reads
   * could block forever or lead elsewhere. The error names the file and what it is instead.
   */
  public static RandomAccessInput openRegularFile(Path file) throws IOException {
    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!attributes.isRegularFile()) {
      throw new IOException(file + ": " + kind(attributes) + ", not a regular file: not opened");
    }
    return new ChannelInput(file.toString(),
        Files.newByteChannel(file, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)));
  }

  /** What a non-regular file is, for messages. */
  public static String kind(BasicFileAttributes attributes) {
    if (attributes.isSymbolicLink()) {
      return "a symbolic link";
    }
    if (attributes.isDirectory()) {
      return "a folder";
    }
    return attributes.isOther() ? "a special file (FIFO, socket or device)" : "a regular file";
  }

  /** Beam's local file system takes plain paths; it would read {@code file:/x} as a relative path. */
  private static String beamSpec(String pathOrUri) {
    return pathOrUri.startsWith("file:") ? Paths.get(URI.create(pathOrUri)).toString() : pathOrUri;
  }
}
