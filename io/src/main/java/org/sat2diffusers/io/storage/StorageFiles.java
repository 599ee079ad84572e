package org.sat2diffusers.io.storage;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.EmptyMatchTreatment;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.util.MimeTypes;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * The whole-file operations the converter needs (list, read and write small files, move, delete),
 * on any Beam filesystem: local paths, s3://, hdfs://, gs://.
 */
public final class StorageFiles {
  private StorageFiles() {}

  /** Files (not folders) matching a glob, sorted by path; empty when none match. */
  public static List<String> list(String glob) throws IOException {
    TreeSet<String> files = new TreeSet<>();
    try {
      for (String spec : specs(glob)) {
        MatchResult match = FileSystems.match(spec, EmptyMatchTreatment.ALLOW);
        if (match.status() == MatchResult.Status.NOT_FOUND) {
          continue;
        }
        for (MatchResult.Metadata m : match.metadata()) {
          if (!m.resourceId().isDirectory()) {
            files.add(m.resourceId().toString());
          }
        }
      }
    } catch (IOException e) {
      throw PathErrors.naming(glob, "cannot list", e);
    }
    // Beam's Hadoop file system lists the folders a recursive glob passes through as if they were
    // files (its resource ids carry no trailing slash): a listed path with others below it is a folder
    files.removeIf(f -> !files.subSet(f + "/", f + "0").isEmpty()); // '0' follows '/'
    return new ArrayList<>(files);
  }

  /**
   * Beam's Hadoop file system matches {@code dir/**} only in the folders below {@code dir}, not the
   * files directly in it: there, {@code dir/*} is matched too. (Object stores and local paths match
   * both with {@code **}.)
   */
  private static List<String> specs(String glob) {
    if (glob.endsWith("/**") && !isObjectStore(glob)) {
      return List.of(glob, glob.substring(0, glob.length() - 1));
    }
    return List.of(glob);
  }

  /**
   * Size, modification time and store checksum (S3: the ETag; local and HDFS: none) of one file; a
   * missing file is an error naming it. Checkpoints: see {@code CheckpointFingerprints}.
   */
  public static FileFingerprint fingerprint(String file) throws IOException {
    try {
      MatchResult.Metadata m = FileSystems.matchSingleFileSpec(file);
      return new FileFingerprint(file, m.sizeBytes(), m.lastModifiedMillis(), m.checksum());
    } catch (IOException e) {
      throw PathErrors.naming(file, "cannot look up", e);
    }
  }

  public static boolean exists(String file) throws IOException {
    return !list(file).isEmpty();
  }

  /**
   * Reads a small text file (at most {@code maxBytes}; a larger file is an error naming it). An S3
   * object replaced by a shorter one while it is read (Beam's channel takes the size when opened,
   * the bytes later) is a {@link ChangedWhileReadingException}, not an endless wait for the rest.
   */
  public static String readString(String file, int maxBytes) throws IOException {
    byte[] bytes;
    try (ReadableByteChannel channel = FileSystems.open(resource(file))) {
      bytes = readAll(channel, maxBytes + 1);
    } catch (IOException e) {
      throw PathErrors.naming(file, "cannot read", e);
    } catch (SdkException e) { // Beam's S3 channel asks for the object at the first read, unchecked
      throw S3Errors.of(file, "cannot read", e);
    }
    if (bytes == null) {
      throw new ChangedWhileReadingException(file + " changed while it was read: it ended before the size it had when opened");
    }
    if (bytes.length > maxBytes) {
      throw new FileTooLargeException(file + " is larger than the " + maxBytes + " bytes expected of it");
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /**
   * Up to {@code limit} bytes, to the end of the channel; null when a read makes no progress before
   * the end (Beam's S3 channel then answers 0 at every call: its object ended early).
   */
  private static byte[] readAll(ReadableByteChannel channel, int limit) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(Math.min(limit, 8192));
    while (true) {
      if (!buffer.hasRemaining()) {
        if (buffer.capacity() == limit) {
          break;
        }
        buffer = ByteBuffer.allocate((int) Math.min(limit, 2L * buffer.capacity())).put(buffer.flip());
      }
      int n = channel.read(buffer);
      if (n < 0) {
        break;
      }
      if (n == 0) {
        return null;
      }
    }
    return Arrays.copyOf(buffer.array(), buffer.position());
  }

  public static void writeString(String file, String text) throws IOException {
    try (OutputStream out = Channels.newOutputStream(FileSystems.create(resource(file), MimeTypes.TEXT))) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw PathErrors.naming(file, "cannot write", e);
    }
  }

  /** Creates (or replaces) a binary file for writing from its start; errors name the path. */
  public static WritableByteChannel create(String file) throws IOException {
    try {
      return FileSystems.create(resource(file), MimeTypes.BINARY);
    } catch (IOException e) {
      throw PathErrors.naming(file, "cannot create", e);
    }
  }

  /**
   * Writes a small file so that it is either absent, the old one, or complete: under a temporary
   * name beside it, then renamed over it. Locally the bytes and then the folder are forced to disk
   * (a crash or power cut leaves no empty or partial file); HDFS renames atomically; an object
   * store's PUT is atomic by itself.
   */
  public static void writeStringAtomically(String file, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    if (isLocal(file)) {
      Path target = localPath(file);
      Path temp = target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
      try {
        Files.createDirectories(target.getParent());
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          out.write(ByteBuffer.wrap(bytes));
          out.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncFolder(target.getParent().toString());
      } catch (IOException e) {
        Files.deleteIfExists(temp);
        throw PathErrors.naming(file, "cannot write", e);
      }
      return;
    }
    if (file.startsWith("s3://") || file.startsWith("gs://")) {
      writeString(file, text);
      return;
    }
    int slash = file.lastIndexOf('/');
    String temp = file.substring(0, slash + 1) + "." + file.substring(slash + 1) + ".tmp-" + UUID.randomUUID();
    writeString(temp, text);
    move(List.of(temp), List.of(file));
  }

  /** Forces a local folder's entries (files created, renamed or deleted in it) to disk; elsewhere nothing to do. */
  public static void syncFolder(String dir) throws IOException {
    if (!isLocal(dir)) {
      return;
    }
    try (FileChannel folder = FileChannel.open(localPath(dir), StandardOpenOption.READ)) {
      folder.force(true);
    } catch (IOException e) {
      throw PathErrors.naming(dir, "cannot sync", e);
    }
  }

  /** The local file a path names: a plain path or a file: URI. */
  public static Path localPath(String path) {
    return path.startsWith("file:") ? Path.of(URI.create(path)) : Path.of(path);
  }

  /** Moves files; the destination of each is replaced if it exists. */
  public static void move(List<String> from, List<String> to) throws IOException {
    if (from.isEmpty()) {
      return;
    }
    FileSystems.rename(resources(from), resources(to), MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
  }

  public static void delete(List<String> files) throws IOException {
    if (files.isEmpty()) {
      return;
    }
    FileSystems.delete(resources(files), MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
  }

  /**
   * Removes {@code root} and the folders between it and each of {@code formerFiles} (files that were
   * below it and have been moved or deleted), deepest first. Object stores have no folders: nothing
   * to do there.
   */
  public static void deleteEmptiedFolders(String root, List<String> formerFiles) throws IOException {
    TreeSet<String> dirs = new TreeSet<>(Comparator.comparingInt(String::length).reversed().thenComparing(s -> s));
    for (String f : formerFiles) {
      for (String d = parent(f); d != null && d.length() > root.length(); d = parent(d)) {
        dirs.add(d);
      }
    }
    dirs.add(root);
    List<ResourceId> ids = new ArrayList<>();
    for (String d : dirs) {
      ids.add(FileSystems.matchNewResource(d, true));
    }
    FileSystems.delete(ids, MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
  }

  private static String parent(String path) {
    String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    int slash = p.lastIndexOf('/');
    return slash <= 0 ? null : p.substring(0, slash);
  }

  /** Whether the path is in an object store (s3://, gs://): keys under prefixes, no folders. */
  public static boolean isObjectStore(String path) {
    return path.startsWith("s3://") || path.startsWith("gs://");
  }

  /** Whether the path is on this machine's filesystem: a plain path or a file: URI. */
  public static boolean isLocal(String path) {
    return "file".equals(resource(path).getScheme());
  }

  public static ResourceId resource(String file) {
    return FileSystems.matchNewResource(file, false);
  }

  private static List<ResourceId> resources(List<String> files) {
    List<ResourceId> out = new ArrayList<>(files.size());
    for (String f : files) {
      out.add(resource(f));
    }
    return out;
  }
}
