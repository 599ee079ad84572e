package org.sat2diffusers.pipeline.steps;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.util.MimeTypes;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.transforms.config.BasePipeline;

/**
 * Puts the files of a base pipeline's component folder into a checkpoint's staging folder, from
 * where the commit moves them like the converted files. With {@code --link}, a file is hard-linked
 * (same filesystem), else symbolically linked to its real path (local files), else copied; without,
 * always copied. Copies go through Beam's filesystems, so the base and the output may be anywhere.
 */
final class BaseComponentFiles {
  /** How one file got into the staging folder. */
  enum Placement {
    HARD_LINK,
    SYMBOLIC_LINK,
    COPY
  }

  /** A staged file: its path relative to the output folder and how it got there. */
  record Staged(String relativePath, Placement placement) {}

  private BaseComponentFiles() {}

  /** Stages every file below {@code base.dir()/folder} as {@code staging/folder/...}. */
  static List<Staged> stage(BasePipeline base, String folder, String staging) throws IOException {
    String from = base.dir() + "/" + folder + "/";
    List<Staged> staged = new ArrayList<>();
    for (String file : StorageFiles.list(from + "**")) {
      String relative = folder + "/" + file.substring(from.length());
      staged.add(new Staged(relative, place(file, staging + "/" + relative, base.link())));
    }
    if (staged.isEmpty()) {
      throw new IOException("--base-pipeline " + base.dir() + ": " + folder + "/ holds no files any more");
    }
    return staged;
  }

  private static Placement place(String from, String to, boolean link) throws IOException {
    if (link && isLocal(from) && isLocal(to)) {
      Path source = Path.of(from).toRealPath(); // never link to a link: a relative one would break
      Path target = Path.of(to);
      Files.createDirectories(target.getParent());
      Files.deleteIfExists(target); // left by an earlier attempt
      try {
        Files.createLink(target, source);
        return Placement.HARD_LINK;
      } catch (FileSystemException | UnsupportedOperationException e) {
        // another filesystem, or links to files not allowed here: try a symbolic link
      }
      try {
        Files.createSymbolicLink(target, source);
        return Placement.SYMBOLIC_LINK;
      } catch (FileSystemException | UnsupportedOperationException e) {
        // no symbolic links here either: copy
      }
    }
    copy(from, to);
    return Placement.COPY;
  }

  private static void copy(String from, String to) throws IOException {
    try (InputStream in = Channels.newInputStream(FileSystems.open(StorageFiles.resource(from)));
        OutputStream out = Channels.newOutputStream(FileSystems.create(StorageFiles.resource(to), MimeTypes.BINARY))) {
      in.transferTo(out);
    }
  }

  private static boolean isLocal(String path) {
    return path.startsWith("/");
  }
}
