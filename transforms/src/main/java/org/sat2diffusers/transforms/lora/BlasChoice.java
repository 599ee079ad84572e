package org.sat2diffusers.transforms.lora;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.NativeBLAS;
import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Whether LoRA products go to native BLAS, decided before netlib's loader runs. netlib's JNI glue
 * dlopen()s the native library itself and, when that fails, prints the failure to stderr from C,
 * past every Java logger (a line in the middle of {@code --log-format json} output). So the native
 * library is first located and loaded here, where a failure is a Java exception; only when that
 * works is netlib allowed to go native (pointed at the very file). Otherwise {@link LoraMergeKernel}
 * multiplies with its own Java kernel and netlib is never asked; it is still told to stay off
 * native code ({@code dev.ludovic.netlib.blas.allowNative=false}, its own switch) should another
 * library in the process ask it.
 *
 * <p>{@value #PROPERTY} = {@code auto} (default: native when it loads, else Java), {@code java}, or
 * {@code native} (fail when it does not load). netlib's {@code nativeLib} / {@code nativeLibPath}
 * properties still name the library (default {@code libopenblas.so.0}).
 *
 * @param blas netlib's native BLAS, or null for the Java kernel
 * @param description what runs the products and why, for the log and the report
 */
public record BlasChoice(BLAS blas, String description) {
  public static final String PROPERTY = "sat2diffusers.blas";
  private static final String ALLOW_NATIVE = "dev.ludovic.netlib.blas.allowNative";
  private static final String NATIVE_LIB = "dev.ludovic.netlib.blas.nativeLib";
  private static final String NATIVE_LIB_PATH = "dev.ludovic.netlib.blas.nativeLibPath";
  private static final String DEFAULT_LIB = "libopenblas.so.0";

  /** Chooses from the system properties; call once, before anything else asks netlib for BLAS. */
  static BlasChoice fromSystemProperties() {
    String mode = System.getProperty(PROPERTY, "auto");
    if (!List.of("auto", "java", "native").contains(mode)) {
      throw new IllegalArgumentException("-D" + PROPERTY + "=" + mode + ": expected auto, java or native");
    }
    if (mode.equals("java") || System.getProperty(ALLOW_NATIVE, "true").equalsIgnoreCase("false")) {
      return javaPath("the Java path was asked for (" + (mode.equals("java") ? "-D" + PROPERTY + "=java" : ALLOW_NATIVE + "=false") + ")");
    }
    String libName = System.getProperty(NATIVE_LIB, DEFAULT_LIB);
    String wanted = System.getProperty(NATIVE_LIB_PATH);
    String found = wanted != null ? wanted : locate(libName);
    String failure = found == null ? libName + " was not found" : load(found);
    if (failure != null) {
      if (mode.equals("native")) {
        throw new IllegalStateException("-D" + PROPERTY + "=native: " + failure);
      }
      return javaPath(failure + "; apt-get install libopenblas0-pthread gives the native one");
    }
    System.setProperty(NATIVE_LIB_PATH, found); // netlib then dlopen()s the library already loaded
    System.setProperty(ALLOW_NATIVE, "true");
    BLAS blas = BLAS.getInstance();
    return blas instanceof NativeBLAS
        ? new BlasChoice(blas, blas.getClass().getSimpleName() + " (native " + found + ")")
        : new BlasChoice(null, "Java (sat2diffusers kernel; netlib's JNI glue did not load)");
  }

  private static BlasChoice javaPath(String why) {
    System.setProperty(ALLOW_NATIVE, "false");
    return new BlasChoice(null, "Java (sat2diffusers kernel; " + why + ")");
  }

  /** null when the library loads, else why not. */
  private static String load(String path) {
    try {
      System.load(path);
      return null;
    } catch (UnsatisfiedLinkError | SecurityException e) {
      return path + " does not load (" + e.getMessage() + ")";
    }
  }

  /** The first {@code name} in the folders the dynamic linker searches, or null. */
  private static String locate(String name) {
    if (name.contains("/")) {
      return Files.isRegularFile(Path.of(name)) ? name : null;
    }
    for (String dir : linkerFolders()) {
      Path candidate = Path.of(dir, name);
      if (Files.isRegularFile(candidate)) { // follows the alternatives links Debian puts there
        return candidate.toAbsolutePath().toString();
      }
    }
    return null;
  }

  /**
   * LD_LIBRARY_PATH, the folders of /etc/ld.so.conf (with its includes), java.library.path and the
   * linker's defaults: where dlopen() looks, without parsing ld.so.cache (which lists the same folders).
   */
  private static List<String> linkerFolders() {
    Set<String> dirs = new LinkedHashSet<>();
    addPathList(dirs, System.getenv("LD_LIBRARY_PATH"));
    addConf(dirs, Path.of("/etc/ld.so.conf"), 0);
    addPathList(dirs, System.getProperty("java.library.path"));
    dirs.addAll(List.of("/lib", "/usr/lib", "/lib64", "/usr/lib64"));
    return new ArrayList<>(dirs);
  }

  private static void addPathList(Set<String> dirs, String pathList) {
    if (pathList != null) {
      for (String d : pathList.split(File.pathSeparator)) {
        if (!d.isBlank()) {
          dirs.add(d);
        }
      }
    }
  }

  private static void addConf(Set<String> dirs, Path conf, int depth) {
    if (depth > 4 || !Files.isRegularFile(conf)) {
      return;
    }
    try {
      for (String raw : Files.readAllLines(conf)) {
        String line = raw.replaceFirst("#.*", "").trim();
        if (line.startsWith("include ")) {
          Path pattern = Path.of(line.substring("include ".length()).trim());
          Path dir = pattern.isAbsolute() ? pattern.getParent() : conf.resolveSibling(pattern).getParent();
          try (DirectoryStream<Path> matches = Files.newDirectoryStream(dir, pattern.getFileName().toString())) {
            List<Path> sorted = new ArrayList<>();
            matches.forEach(sorted::add);
            sorted.sort(null);
            sorted.forEach(p -> addConf(dirs, p, depth + 1));
          }
        } else if (line.startsWith("/")) {
          dirs.add(line);
        }
      }
    } catch (IOException | RuntimeException e) {
      // an unreadable linker configuration only narrows the search; the Java kernel still works
    }
  }
}
