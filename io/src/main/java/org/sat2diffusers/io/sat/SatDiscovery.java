package org.sat2diffusers.io.sat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.beam.sdk.io.FileSystems;
import org.sat2diffusers.io.storage.TreeListing;

/**
 * Finds every SAT run below a folder from one recursive listing (on object stores a single prefix
 * listing, however many runs there are). A run is a folder with a {@code latest} file, or with
 * iteration folders ({@code <iter>/}, {@code <iter>-ema/}, ...) holding {@code *_model_states.pt};
 * a {@code transformer/} run next to {@code vae/*.pt} is the released layout, reported as the folder
 * holding both.
 */
public final class SatDiscovery {
  private static final String STATES_SUFFIX = "_model_states.pt";

  private SatDiscovery() {}

  /** The runs below {@code root} (the root itself included), ordered by relative path. */
  public static List<SatRun> discover(String root) throws IOException {
    return discover(root, TreeListing.DEFAULT_MAX_DEPTH);
  }

  /**
   * The runs below {@code root} in folders at most {@code maxDepth} levels down; symbolic links are
   * followed, but no real folder is searched twice (see {@link TreeListing}).
   */
  public static List<SatRun> discover(String root, int maxDepth) throws IOException {
    String prefix = directoryPrefix(root);
    return runs(prefix, TreeListing.files(prefix, maxDepth));
  }

  /**
   * The runs found in a recursive listing of {@code prefix} (a folder path ending in '/', as Beam
   * names it). Files directly in the folder are never iteration files of a run: the folder's parent
   * lies outside it.
   */
  static List<SatRun> runs(String prefix, List<String> files) throws IOException {
    TreeSet<String> withLatest = new TreeSet<>();
    Map<String, Map<String, List<String>>> states = new TreeMap<>();
    Map<String, List<String>> ptFiles = new TreeMap<>();
    for (String file : files) {
      String rel = relative(prefix, file);
      String folder = parent(rel);
      String name = rel.substring(rel.lastIndexOf('/') + 1);
      if (name.equals(SatLayout.LATEST)) {
        withLatest.add(folder);
      } else if (name.endsWith(STATES_SUFFIX) && !folder.isEmpty()) {
        String iteration = folder.substring(folder.lastIndexOf('/') + 1);
        states.computeIfAbsent(parent(folder), k -> new LinkedHashMap<>())
            .computeIfAbsent(iteration, k -> new ArrayList<>())
            .add(file);
      } else if (name.endsWith(".pt")) {
        ptFiles.computeIfAbsent(folder, k -> new ArrayList<>()).add(file);
      }
    }
    TreeSet<String> runFolders = new TreeSet<>(withLatest);
    runFolders.addAll(states.keySet());
    List<SatRun> runs = new ArrayList<>();
    for (String rel : runFolders) {
      String latest = withLatest.contains(rel) ? SatLayout.readLatest(path(prefix, rel) + "/" + SatLayout.LATEST) : null;
      Map<String, List<String>> iterations = states.getOrDefault(rel, Map.of());
      List<String> vae = releasedVae(rel, ptFiles);
      String runRel = vae.isEmpty() ? rel : parent(rel);
      runs.add(new SatRun(path(prefix, runRel), runRel, latest, iterations, vae));
    }
    runs.sort((a, b) -> a.relativePath().compareTo(b.relativePath()));
    return runs;
  }

  /** {@code vae/*.pt} next to a {@code transformer} run (below the root), else empty. */
  private static List<String> releasedVae(String runRel, Map<String, List<String>> ptFiles) {
    boolean transformer = runRel.equals("transformer") || runRel.endsWith("/transformer");
    if (!transformer) {
      return List.of();
    }
    String vaeFolder = parent(runRel).isEmpty() ? "vae" : parent(runRel) + "/vae";
    return ptFiles.getOrDefault(vaeFolder, List.of());
  }

  /** {@code dir} as Beam names a folder (absolute, normalized, ending in '/'), so listed paths start with it. */
  static String directoryPrefix(String dir) {
    String prefix = FileSystems.matchNewResource(dir, true).toString();
    return prefix.endsWith("/") ? prefix : prefix + "/";
  }

  private static String relative(String prefix, String file) throws IOException {
    if (!file.startsWith(prefix)) {
      throw new IOException("listing " + prefix + " returned " + file + ", which is not below it");
    }
    return file.substring(prefix.length());
  }

  private static String path(String prefix, String rel) {
    return rel.isEmpty() ? prefix.substring(0, prefix.length() - 1) : prefix + rel;
  }

  private static String parent(String rel) {
    int slash = rel.lastIndexOf('/');
    return slash < 0 ? "" : rel.substring(0, slash);
  }
}
