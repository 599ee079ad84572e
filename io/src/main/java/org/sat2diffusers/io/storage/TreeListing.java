package org.sat2diffusers.io.storage;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.logging.Logger;
import org.apache.beam.sdk.io.FileSystems;

/**
 * The files below a folder, down to a depth limit, for discovering runs. Shared file systems are
 * full of symbolic links, and Beam's local {@code **} match follows every one of them: a link to an
 * ancestor lists the same runs again under ever deeper paths, a link to {@code /} lists the machine.
 *
 * <p>On the local file system this walk follows links (a run linked in from elsewhere is found) but
 * lists each real folder once: the folders reachable without links come first, then the linked
 * ones in path order, and a link whose target is a folder already listed, or one holding the root
 * (an ancestor, {@code /}), is skipped with a warning. Skipping rather than failing keeps a nightly
 * run over a shared tree going when someone adds a stray link; every checkpoint is still found once.
 * Object stores have no links; HDFS listings report links without following them. There the
 * recursive listing is cut at the same depth.
 */
public final class TreeListing {
  /** Folder levels searched below a root unless told otherwise ({@code --max-depth}, {@code max_depth}). */
  public static final int DEFAULT_MAX_DEPTH = 16;

  private static final Logger LOG = Logger.getLogger("sat2diffusers");

  private final String prefix;
  private final int maxDepth;
  private final List<String> files = new ArrayList<>();
  /** Real path of each folder listed → the path it was listed under, for the warnings. */
  private final Map<Path, String> listed = new HashMap<>();
  /** Links to folders, met during a walk, listed after it: logical path → depth. */
  private final Map<Path, Integer> links = new TreeMap<>();
  private String tooDeep;

  private TreeListing(String prefix, int maxDepth) {
    this.prefix = prefix;
    this.maxDepth = maxDepth;
  }

  /**
   * The files below {@code prefix} (a folder as Beam names it, ending in '/') in folders at most
   * {@code maxDepth} levels below it, sorted; each path starts with {@code prefix}.
   */
  public static List<String> files(String prefix, int maxDepth) throws IOException {
    if (maxDepth < 0) {
      throw new IllegalArgumentException("the depth limit must be 0 or more, got " + maxDepth);
    }
    TreeListing listing = new TreeListing(prefix, maxDepth);
    if ("file".equals(FileSystems.matchNewResource(prefix, true).getScheme())) {
      listing.walkLocal();
    } else {
      listing.cutListing(StorageFiles.list(prefix + "**"));
    }
    if (listing.tooDeep != null) {
      LOG.warning("stopped searching below " + prefix + " at the depth limit of " + maxDepth + " folders: "
          + listing.tooDeep + " and anything as deep was not searched (raise --max-depth / max_depth to search it)");
    }
    return listing.files.stream().sorted().toList();
  }

  private void cutListing(List<String> all) {
    for (String file : all) {
      String rel = file.substring(prefix.length());
      int depth = (int) rel.chars().filter(c -> c == '/').count();
      if (depth <= maxDepth) {
        files.add(file);
      } else if (tooDeep == null) {
        tooDeep = prefix + rel.substring(0, nthSlash(rel, maxDepth + 1));
      }
    }
  }

  private static int nthSlash(String rel, int n) {
    int at = -1;
    for (int i = 0; i < n; i++) {
      at = rel.indexOf('/', at + 1);
    }
    return at;
  }

  private void walkLocal() throws IOException {
    Path root = Path.of(prefix);
    if (!Files.isDirectory(root)) {
      return; // nothing to list, as Beam's match of a missing folder
    }
    Path rootReal = root.toRealPath();
    walk(root, rootReal, 0);
    while (!links.isEmpty()) {
      Path link = links.keySet().iterator().next();
      int depth = links.remove(link);
      Path real;
      try {
        real = link.toRealPath();
      } catch (IOException e) {
        continue; // the link broke meanwhile: there is nothing behind it to list
      }
      if (rootReal.startsWith(real)) {
        LOG.warning("not following the link " + link + ": it leads to " + real + ", which holds the searched folder "
            + root + " (a loop)");
      } else if (listed.containsKey(real)) {
        LOG.warning("not following the link " + link + ": it leads to " + real + ", already searched as "
            + listed.get(real));
      } else {
        walk(link, real, depth);
      }
    }
  }

  /**
   * Lists one folder's files and descends into its real subfolders; links to folders wait in
   * {@link #links}. {@code real} is the folder's real path (the link targets resolved).
   */
  private void walk(Path folder, Path real, int depth) throws IOException {
    String shown = folder.toString();
    if (listed.putIfAbsent(real, shown) != null) {
      LOG.warning("not searching " + folder + " again: it is " + real + ", already searched as " + listed.get(real));
      return;
    }
    Deque<Path> subfolders = new ArrayDeque<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder)) {
      for (Path entry : entries) {
        BasicFileAttributes own = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (own.isDirectory()) {
          subfolders.add(entry);
        } else if (own.isSymbolicLink() && Files.isDirectory(entry)) {
          if (depth + 1 <= maxDepth) {
            links.put(entry, depth + 1);
          } else if (tooDeep == null) {
            tooDeep = entry.toString();
          }
        } else if (own.isRegularFile() || (own.isSymbolicLink() && Files.isRegularFile(entry))) {
          files.add(prefix + Path.of(prefix).relativize(entry).toString().replace('\\', '/'));
        }
      }
    } catch (IOException e) {
      if (depth == 0) {
        throw PathErrors.naming(folder.toString(), "cannot list", e);
      }
      // one unreadable folder of a shared tree should not stop the runs found elsewhere
      LOG.warning("cannot list " + folder + " (" + e.getMessage() + "): not searched");
      return;
    }
    for (Path sub : subfolders.stream().sorted().toList()) {
      if (depth + 1 > maxDepth) {
        if (tooDeep == null) {
          tooDeep = sub.toString();
        }
      } else {
        walk(sub, real.resolve(sub.getFileName()), depth + 1);
      }
    }
  }
}
