package org.sat2diffusers.pipeline.verify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import org.sat2diffusers.io.storage.RandomAccessInputs;

/**
 * The paths a report names, checked to stay inside the folder being verified: a report is data from
 * the folder, and {@code ../../etc/passwd} or a symbolic link out of it must be a finding, never
 * opened.
 */
final class ReportPaths {
  private ReportPaths() {}

  /**
   * Why {@code relative} is not a plain path below the folder, or null when it is: no absolute path,
   * no URI, no {@code .} or {@code ..} segment, no empty segment, no backslash or control character.
   */
  static String syntaxProblem(String relative) {
    if (relative.isEmpty()) {
      return "an empty path";
    }
    if (relative.startsWith("/") || relative.contains("\\") || relative.contains(":")
        || relative.chars().anyMatch(c -> c < 0x20)) {
      return "not a plain relative path";
    }
    for (String segment : relative.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        return "a path leaving or bending inside the folder ('" + segment + "' segment)";
      }
    }
    return null;
  }

  /**
   * {@code relative} below the local folder {@code root}, each folder on the way a real folder (not
   * a link), the last a regular file; else an error naming the path and what is wrong
   * ({@link NoSuchFileException} when nothing is there).
   */
  static Path regularFileInside(Path root, String relative) throws IOException {
    String problem = syntaxProblem(relative);
    if (problem != null) {
      throw new IOException(root + "/" + relative + ": named by the report, " + problem + ": not opened");
    }
    Path at = root;
    String[] segments = relative.split("/");
    for (int i = 0; i < segments.length - 1; i++) {
      at = at.resolve(segments[i]);
      BasicFileAttributes a = attributes(at);
      if (a == null) {
        throw new NoSuchFileException(root.resolve(relative).toString());
      }
      if (!a.isDirectory()) {
        throw new IOException(at + ": " + RandomAccessInputs.kind(a) + ", not a folder: " + relative + " not opened");
      }
    }
    Path file = root.resolve(relative);
    BasicFileAttributes a = attributes(file);
    if (a == null) {
      throw new NoSuchFileException(file.toString());
    }
    if (!a.isRegularFile()) {
      throw new IOException(file + ": " + RandomAccessInputs.kind(a) + ", not a regular file: not opened");
    }
    return file;
  }

  /** The file's own attributes (a link is not followed), or null when there is nothing there. */
  private static BasicFileAttributes attributes(Path p) throws IOException {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }
}
