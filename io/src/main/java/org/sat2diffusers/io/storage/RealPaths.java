package org.sat2diffusers.io.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The one spelling of a path that the storage itself sees, so two spellings of the same place
 * compare equal: local paths with every symbolic link, {@code .} and {@code ..} resolved and the
 * letter case the file system keeps (also for the part that does not exist yet, which is
 * resolved below its deepest existing folder); object stores and HDFS as
 * {@code scheme://authority/key} with {@code .}, {@code ..} and doubled slashes removed (they have
 * no links). {@link #contains} then tells whether one place is inside another.
 */
public final class RealPaths {
  /** More links than this in one path is a loop (Linux gives up at 40). */
  private static final int MAX_LINKS = 40;

  private RealPaths() {}

  /** The real form of a local path, a {@code file:} URI, or a URI of another store. */
  public static String of(String path) throws IOException {
    if (path.startsWith("file:")) {
      return local(Path.of(URI.create(path)));
    }
    if (path.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
      return remote(path);
    }
    return local(Path.of(path));
  }

  /** Whether {@code inner} is {@code outer} or lies below it; both in their real form. */
  public static boolean contains(String outer, String inner) {
    String o = outer.endsWith("/") ? outer : outer + "/";
    return inner.equals(outer) || inner.startsWith(o);
  }

  private static String local(Path path) throws IOException {
    Deque<String> todo = new ArrayDeque<>();
    for (Path part : path.toAbsolutePath()) {
      todo.addLast(part.toString());
    }
    Path real = path.toAbsolutePath().getRoot();
    int links = 0;
    while (!todo.isEmpty()) {
      String part = todo.removeFirst();
      if (part.equals(".") || part.isEmpty()) {
        continue;
      }
      if (part.equals("..")) {
        real = real.getParent() == null ? real : real.getParent();
        continue;
      }
      Path next = real.resolve(part);
      if (Files.isSymbolicLink(next)) {
        if (++links > MAX_LINKS) {
          throw new IOException(path + ": too many symbolic links (a loop?) at " + next);
        }
        Path target = Files.readSymbolicLink(next);
        List<String> parts = new ArrayList<>();
        target.forEach(p -> parts.add(p.toString()));
        for (int i = parts.size() - 1; i >= 0; i--) {
          todo.addFirst(parts.get(i));
        }
        if (target.isAbsolute()) {
          real = target.getRoot();
        }
        continue;
      }
      // toRealPath of an existing entry gives the case the file system keeps
      real = Files.exists(next, LinkOption.NOFOLLOW_LINKS) ? next.toRealPath(LinkOption.NOFOLLOW_LINKS) : next;
    }
    return real.toString();
  }

  private static String remote(String uri) {
    int afterScheme = uri.indexOf("://") + 3;
    int slash = uri.indexOf('/', afterScheme);
    String authority = slash < 0 ? uri.substring(afterScheme) : uri.substring(afterScheme, slash);
    String key = slash < 0 ? "" : uri.substring(slash + 1);
    Deque<String> parts = new ArrayDeque<>();
    for (String part : key.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        parts.pollLast();
      } else {
        parts.addLast(part);
      }
    }
    return uri.substring(0, afterScheme).toLowerCase() + authority + "/" + String.join("/", parts);
  }
}
