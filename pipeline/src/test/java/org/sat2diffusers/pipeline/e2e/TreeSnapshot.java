package org.sat2diffusers.pipeline.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Every entry below a folder with its content: sha256 of each regular file, the target of each
 * symbolic link (never followed), "dir" for folders. Two snapshots are equal when nothing in the
 * tree changed.
 */
final class TreeSnapshot {
  private TreeSnapshot() {}

  static Map<String, String> of(Path root) throws IOException {
    Map<String, String> entries = new TreeMap<>();
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return entries;
    }
    List<Path> all;
    try (Stream<Path> walk = Files.walk(root)) { // does not follow links
      all = walk.toList();
    }
    for (Path p : all) {
      String key = root.relativize(p).toString();
      if (Files.isSymbolicLink(p)) {
        entries.put(key, "link -> " + Files.readSymbolicLink(p));
      } else if (Files.isDirectory(p)) {
        entries.put(key, "dir");
      } else {
        entries.put(key, TestData.sha256(p));
      }
    }
    return entries;
  }
}
