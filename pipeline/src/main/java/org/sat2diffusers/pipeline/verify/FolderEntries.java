package org.sat2diffusers.pipeline.verify;

import java.io.IOException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.EnumSet;
import java.util.Map;
import java.util.TreeMap;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.StorageFiles;

/**
 * Everything inside a converted folder, by path relative to it, with what each entry is: {@link
 * #FILE}, {@link #FOLDER}, or a description (a symbolic link, a FIFO, ...). Links are listed, never
 * followed, so the listing stays inside the folder.
 */
final class FolderEntries {
  static final String FILE = "a regular file";
  static final String FOLDER = "a folder";
  /** Deeper than any converted folder; bounds the walk of a hostile tree. */
  private static final int MAX_DEPTH = 32;

  private FolderEntries() {}

  static Map<String, String> of(String dir, Path localRoot) throws IOException {
    Map<String, String> entries = new TreeMap<>();
    if (localRoot == null) { // object stores and HDFS: files only; their folders are the paths between
      String prefix = dir + "/";
      for (String file : StorageFiles.list(prefix + "**")) {
        String relative = file.substring(prefix.length());
        entries.put(relative, FILE);
        for (int slash = relative.indexOf('/'); slash > 0; slash = relative.indexOf('/', slash + 1)) {
          entries.put(relative.substring(0, slash), FOLDER);
        }
      }
      return entries;
    }
    Path root = localRoot.toRealPath();
    Files.walkFileTree(root, EnumSet.noneOf(FileVisitOption.class), MAX_DEPTH, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
        if (!d.equals(root)) {
          entries.put(relative(root, d), FOLDER);
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
        entries.put(relative(root, f), a.isRegularFile() ? FILE : a.isDirectory() ? FOLDER : RandomAccessInputs.kind(a));
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path f, IOException e) {
        entries.put(relative(root, f), "unreadable (" + e.getMessage() + ")");
        return FileVisitResult.CONTINUE;
      }
    });
    return entries;
  }

  private static String relative(Path root, Path p) {
    return root.relativize(p).toString().replace('\\', '/');
  }
}
