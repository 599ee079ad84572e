package org.sat2diffusers.pipeline.steps;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Collection;
import org.sat2diffusers.io.storage.StorageFiles;

/**
 * What the commit may touch in an output folder {@code OUT}: only paths below it, reached through
 * no symbolic link. {@code OUT} itself may be a link (the overlap check compared its real path with
 * the sources); a folder below it that is a link would carry moves and deletes outside. A file that
 * is a link (a base pipeline file placed with {@code --link}) is moved or deleted as the link
 * itself, never through it. Object stores have no links; HDFS has them switched off by default.
 */
final class OutputGuard {
  private OutputGuard() {}

  /** Fails, naming the path, unless each of {@code paths} lies below {@code out} through real folders only. */
  static void requireNoLinks(String out, Collection<String> paths) throws IOException {
    for (String path : paths) {
      if (!path.startsWith(out + "/") || path.contains("/../") || path.endsWith("/..")) {
        throw new IOException(path + " is not inside the output " + out + ": refusing to move or delete it");
      }
      if (!StorageFiles.isLocal(path)) {
        continue;
      }
      Path root = StorageFiles.localPath(out);
      Path relative = root.relativize(StorageFiles.localPath(path));
      Path step = root;
      for (int i = 0; i < relative.getNameCount(); i++) {
        step = step.resolve(relative.getName(i));
        boolean last = i == relative.getNameCount() - 1;
        if (Files.isSymbolicLink(step) && (!last || Files.isDirectory(step))) {
          throw new IOException(step + " is a symbolic link (to " + Files.readSymbolicLink(step) + "): the commit"
              + " writes, moves and deletes only in real folders of the output " + out + "; remove the link");
        }
        if (!Files.exists(step, LinkOption.NOFOLLOW_LINKS)) {
          break;
        }
      }
    }
  }
}
