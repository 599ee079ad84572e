package org.sat2diffusers.pipeline.storage;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.beam.sdk.io.hdfs.HadoopFileSystemOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.sat2diffusers.io.storage.ChangedWhileReadingException;
import org.sat2diffusers.io.storage.S3ConditionalReplace;
import org.sat2diffusers.io.storage.S3CreateIfAbsent;
import org.sat2diffusers.io.storage.StorageFiles;

/**
 * The one operation a lock needs from a store, create-if-absent, done atomically by the store
 * itself: an exclusive create ({@code O_EXCL}) locally, HDFS's {@code create(path, overwrite =
 * false)} (the name node decides), S3's conditional PUT ({@code If-None-Match: *}); other stores
 * a look, then a write, with a read-back. Taking over a stale lock is atomic where the store allows:
 * a rename locally and on HDFS, a conditional replace on S3. Reading, renewing and deleting a lock go
 * through Beam's file systems like every other small file.
 */
abstract class LockStore {
  private static final int MAX_LOCK_BYTES = 64 << 10;

  /** Creates {@code file} holding {@code text}; false when it exists. */
  abstract boolean createIfAbsent(String file, String text) throws IOException;

  /**
   * Takes over the stale lock {@code file}, read as {@code seen}, for the lock text {@code mine}: true
   * when this run removed or replaced it. Of several runs taking over one stale lock at once, one
   * does, and a lock created or renewed since it was read is left in place. Here: the lock is moved
   * aside ({@link #moveAside}) and put back unless it is what was read; the caller's next
   * create-if-absent then takes it.
   */
  boolean takeOver(String file, String seen, String mine) throws IOException {
    Optional<String> aside = moveAside(file);
    if (aside.isEmpty()) {
      return false; // someone else moved it
    }
    String moved = read(aside.get()).orElse("");
    // between reading and moving, another run took it over: give it back. An empty one was still being
    // created: not given back (it would stay empty, unreadable, until its lease ran out); its creator
    // finds it gone, when writing it (HDFS) or reading it back, and creates it again
    if (!moved.equals(seen) && !moved.isEmpty()) {
      createIfAbsent(file, moved);
    }
    StorageFiles.delete(List.of(aside.get()));
    return moved.equals(seen);
  }

  /**
   * Moves {@code file} out of the way to a new name beside it and returns that name, or empty when
   * it was gone: of two runs taking over the same stale lock, only one gets it. Here, for stores
   * without rename: a copy, then a delete (two runs taking over one stale lock at once are not told
   * apart).
   */
  Optional<String> moveAside(String file) throws IOException {
    Optional<String> text = read(file);
    if (text.isEmpty()) {
      return Optional.empty();
    }
    String aside = asideName(file);
    StorageFiles.writeString(aside, text.get());
    StorageFiles.delete(List.of(file));
    return Optional.of(aside);
  }

  /**
   * How long to let racing creates land before reading the lock back to see who won: an object store
   * that checks and then puts (S3Proxy) may let two conditional PUTs of one key through.
   */
  Duration settle() {
    return Duration.ZERO;
  }

  /** Whether the folder exists (object stores: always, they have no folders to create). */
  boolean folderExists(String dir) throws IOException {
    return true;
  }

  /** Removes the folder if it holds nothing (a lock taken for an output that was then never written). */
  void removeFolderIfEmpty(String dir) throws IOException {}

  /**
   * The lock's text, or empty when there is none. A lock replaced while it is read (a rival's
   * takeover, a renewal) is read again.
   */
  Optional<String> read(String file) throws IOException {
    for (int attempt = 1; ; attempt++) {
      try {
        return Optional.of(StorageFiles.readString(file, MAX_LOCK_BYTES));
      } catch (FileNotFoundException | NoSuchFileException e) {
        return Optional.empty();
      } catch (ChangedWhileReadingException e) {
        if (attempt == 5) {
          throw e;
        }
      }
    }
  }

  static LockStore of(String file, PipelineOptions options) {
    if (StorageFiles.isLocal(file)) {
      return new Local();
    }
    if (file.startsWith("s3://")) {
      return new S3();
    }
    if (file.startsWith("hdfs://")) {
      return new Hdfs(options);
    }
    return new CheckThenWrite();
  }

  /**
   * Other stores (gs://, ...) through Beam alone: a look, then a write. Not atomic: two runs starting
   * within the settle time of each other are told apart only by reading the lock back.
   */
  static final class CheckThenWrite extends LockStore {
    @Override
    boolean createIfAbsent(String file, String text) throws IOException {
      if (StorageFiles.exists(file)) {
        return false;
      }
      StorageFiles.writeString(file, text);
      return true;
    }

    @Override
    Duration settle() {
      return Duration.ofSeconds(1);
    }
  }

  private static String asideName(String file) {
    return file + ".stale-" + UUID.randomUUID();
  }

  static final class Local extends LockStore {
    @Override
    boolean createIfAbsent(String file, String text) throws IOException {
      Path path = StorageFiles.localPath(file);
      Files.createDirectories(path.getParent());
      try {
        Files.writeString(path, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
            StandardOpenOption.SYNC);
        return true;
      } catch (FileAlreadyExistsException e) {
        return false;
      }
    }

    @Override
    boolean folderExists(String dir) {
      return Files.isDirectory(StorageFiles.localPath(dir));
    }

    @Override
    void removeFolderIfEmpty(String dir) throws IOException {
      try {
        Files.deleteIfExists(StorageFiles.localPath(dir));
      } catch (DirectoryNotEmptyException e) {
        // written after all
      }
    }

    @Override
    Optional<String> moveAside(String file) throws IOException {
      Path aside = StorageFiles.localPath(asideName(file));
      try {
        Files.move(StorageFiles.localPath(file), aside, StandardCopyOption.ATOMIC_MOVE);
        return Optional.of(aside.toString());
      } catch (NoSuchFileException e) {
        return Optional.empty();
      }
    }
  }

  static final class S3 extends LockStore {
    @Override
    Duration settle() {
      return Duration.ofMillis(500);
    }

    @Override
    boolean createIfAbsent(String file, String text) throws IOException {
      return S3CreateIfAbsent.create(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * S3 has no rename, and a copy then a delete could delete the lock another run took over in
     * between: the stale lock is replaced by a conditional PUT ({@code If-Match} its ETag), which
     * fails once any other run has replaced or removed it.
     */
    @Override
    boolean takeOver(String file, String seen, String mine) throws IOException {
      Optional<S3ConditionalReplace.Version> current = S3ConditionalReplace.read(file, MAX_LOCK_BYTES);
      if (current.isEmpty() || !current.get().text().equals(seen)) {
        return false; // released or taken over since it was read
      }
      return S3ConditionalReplace.replace(file, current.get(), mine);
    }
  }

  static final class Hdfs extends LockStore {
    private final Configuration conf;

    Hdfs(PipelineOptions options) {
      var confs = options.as(HadoopFileSystemOptions.class).getHdfsConfiguration();
      this.conf = confs == null || confs.isEmpty() ? new Configuration() : confs.get(0);
    }

    @Override
    boolean createIfAbsent(String file, String text) throws IOException {
      org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(file);
      FileSystem fs = path.getFileSystem(conf);
      FSDataOutputStream out;
      try {
        out = fs.create(path, false);
      } catch (org.apache.hadoop.fs.FileAlreadyExistsException
          | org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException e) {
        return false;
      } catch (org.apache.hadoop.ipc.RemoteException e) {
        IOException cause = e.unwrapRemoteException();
        if (cause instanceof org.apache.hadoop.fs.FileAlreadyExistsException
            || cause instanceof org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException) {
          return false; // exists, or another create of it is under way (in this process: same HDFS client)
        }
        throw e;
      }
      // not try-with-resources: after a failed hsync the stream's close throws the very same exception
      try {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.hsync();
        out.close();
        return true;
      } catch (IOException e) {
        org.apache.hadoop.io.IOUtils.closeStream(out); // quietly: it fails again with the same error
        if (e instanceof FileNotFoundException || (e instanceof org.apache.hadoop.ipc.RemoteException remote
            && remote.unwrapRemoteException() instanceof FileNotFoundException)) {
          // moved aside while it was being written, by a run taking over the stale lock this one replaced:
          // that run gives it back; who holds it is what the caller reads next
          return false;
        }
        throw e;
      }
    }

    @Override
    boolean folderExists(String dir) throws IOException {
      org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(dir);
      return path.getFileSystem(conf).exists(path);
    }

    @Override
    void removeFolderIfEmpty(String dir) throws IOException {
      org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(dir);
      FileSystem fs = path.getFileSystem(conf);
      if (fs.exists(path) && fs.listStatus(path).length == 0) {
        fs.delete(path, false);
      }
    }

    @Override
    Optional<String> moveAside(String file) throws IOException {
      org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(file);
      String aside = asideName(file);
      return path.getFileSystem(conf).rename(path, new org.apache.hadoop.fs.Path(aside)) ? Optional.of(aside)
          : Optional.empty();
    }
  }
}
