package org.sat2diffusers.io.sat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.storage.TreeListing;

/**
 * Finds the checkpoint files behind a path, following SAT's {@code training/model_io.py} layout:
 * a run folder ({@code latest} names the iteration folder), an iteration folder
 * ({@code mp_rank_XX_model_states.pt}), a single {@code .pt} file, or the released layout
 * ({@code transformer/latest} + {@code vae/*.pt}). Works on any Beam filesystem.
 */
public final class SatLayout {
  static final String LATEST = "latest";
  private static final Pattern RANK_FILE = Pattern.compile("mp_rank_(\\d+)_model_states\\.pt");
  private static final Pattern ZERO3_FILE = Pattern.compile("z3_rank_\\d+_model_states\\.pt");

  private SatLayout() {}

  /**
   * Resolves {@code path} to the checkpoint it names. A run folder's {@code latest} decides the
   * iteration (without one: its highest numeric iteration, see {@link SatRun#latestIteration}); an
   * {@code mp_rank_XX_model_states.pt} file stands for the iteration of its folder: all its
   * model-parallel ranks, since one rank alone is not the model.
   */
  public static SatCheckpoint resolve(String path) throws IOException {
    String dir = stripSlash(path);
    if (dir.endsWith(".pt")) {
      requireFile(dir);
      if (RANK_FILE.matcher(lastSegment(dir)).matches()) {
        return new SatCheckpoint(path, lastSegment(parent(dir)), rankFiles(parent(dir)));
      }
      return new SatCheckpoint(path, stem(dir), List.of(dir));
    }
    Optional<SatRun> run = findRun(dir);
    if (run.isPresent()) {
      SatCheckpoint latest = run.get().checkpoint(run.get().latestIteration());
      return new SatCheckpoint(path, latest.iteration(), latest.files());
    }
    return new SatCheckpoint(path, lastSegment(dir), rankFiles(dir));
  }

  /**
   * The run folder or released layout at {@code path}; empty when {@code path} is one checkpoint (a
   * {@code .pt} file or an iteration folder holding {@code *_model_states.pt}).
   *
   * @throws SatLayoutException when it is none of these (naming the runs below it, if any)
   */
  public static Optional<SatRun> findRun(String path) throws IOException {
    String dir = stripSlash(path);
    if (dir.endsWith(".pt")) {
      return Optional.empty();
    }
    String prefix = SatDiscovery.directoryPrefix(dir);
    List<String> files = TreeListing.files(prefix, TreeListing.DEFAULT_MAX_DEPTH);
    boolean iterationFolder = files.stream()
        .anyMatch(f -> f.lastIndexOf('/') == prefix.length() - 1 && f.endsWith("_model_states.pt"));
    if (iterationFolder) {
      return Optional.empty();
    }
    List<SatRun> runs = SatDiscovery.runs(prefix, files);
    if (!runs.isEmpty() && runs.get(0).relativePath().isEmpty()) {
      return Optional.of(runs.get(0));
    }
    String below = runs.isEmpty() ? "" : "; it holds " + runs.size() + " SAT run(s) below it (first "
        + runs.get(0).relativePath() + "): use it as a root to convert them all";
    throw new SatLayoutException(
        path
            + " is not a SAT checkpoint: expected a run folder with 'latest', an iteration folder with"
            + " mp_rank_00_model_states.pt, a .pt file, or a released layout with transformer/latest and vae/" + below);
  }

  /**
   * The name of the run a single checkpoint comes from: the folder above its iteration folder for
   * rank files ({@code run/1000/mp_rank_00_model_states.pt} gives {@code run}), else the folder holding
   * the file.
   */
  public static String runName(SatCheckpoint checkpoint) {
    String first = checkpoint.files().get(0);
    String folder = parent(first);
    return lastSegment(RANK_FILE.matcher(lastSegment(first)).matches() ? parent(folder) : folder);
  }

  /**
   * The {@code model_config.json} SAT saves beside a run's iteration folders (for the released
   * layout: in {@code transformer/}), if the checkpoint's run has one.
   */
  public static Optional<String> runModelConfig(SatCheckpoint checkpoint) throws IOException {
    String first = checkpoint.files().get(0);
    String folder = parent(first);
    String runFolder = RANK_FILE.matcher(lastSegment(first)).matches() ? parent(folder) : folder;
    String file = join(runFolder, "model_config.json");
    return StorageFiles.exists(file) ? Optional.of(StorageFiles.readString(file, 1 << 20)) : Optional.empty();
  }

  /** The model-parallel rank files of one iteration folder, rank 0 first. */
  static List<String> rankFiles(String iterationDir) throws IOException {
    return rankFiles(iterationDir, list(join(iterationDir, "*_model_states.pt")));
  }

  /**
   * The rank files among {@code files} (the iteration folder's {@code *_model_states.pt}), rank 0
   * first, checked: ranks 0..N-1 all present, no ZeRO-3 files.
   */
  static List<String> rankFiles(String iterationDir, List<String> files) throws SatLayoutException {
    List<String> ranks = new ArrayList<>();
    for (String f : files) {
      String name = lastSegment(f);
      if (ZERO3_FILE.matcher(name).matches()) {
        throw new SatLayoutException(
            iterationDir + " holds ZeRO-3 partitioned files (" + name + "), which this version cannot convert");
      }
      if (RANK_FILE.matcher(name).matches()) {
        ranks.add(f);
      }
    }
    if (ranks.isEmpty()) {
      throw new SatLayoutException(iterationDir + " holds no model states file (mp_rank_00_model_states.pt)");
    }
    ranks.sort(Comparator.comparingInt(SatLayout::rank));
    for (int i = 0; i < ranks.size(); i++) {
      if (rank(ranks.get(i)) != i) {
        throw new SatLayoutException(String.format(
            "%s holds %d model-parallel rank files but rank %02d is missing (mp_rank_%02d_model_states.pt):"
                + " a model-parallel checkpoint needs every rank", iterationDir, ranks.size(), i, i));
      }
    }
    return ranks;
  }

  private static int rank(String file) {
    Matcher m = RANK_FILE.matcher(lastSegment(file));
    return m.matches() ? Integer.parseInt(m.group(1)) : Integer.MAX_VALUE;
  }

  static String readLatest(String latestFile) throws IOException {
    String text = StorageFiles.readString(latestFile, 256).trim();
    if (text.isEmpty() || text.contains("/") || text.contains("..")) {
      throw new SatLayoutException(latestFile + " should name an iteration folder, but holds '" + text + "'");
    }
    return text;
  }

  private static void requireFile(String file) throws IOException {
    if (!StorageFiles.exists(file)) {
      throw new SatLayoutException(file + " does not exist");
    }
  }

  private static List<String> list(String spec) throws IOException {
    return StorageFiles.list(spec);
  }

  static String join(String dir, String child) {
    return dir + "/" + child;
  }

  private static String stripSlash(String path) {
    String p = path;
    while (p.length() > 1 && p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p;
  }

  private static String parent(String path) {
    return path.substring(0, Math.max(path.lastIndexOf('/'), 0));
  }

  private static String lastSegment(String path) {
    String p = stripSlash(path);
    return p.substring(p.lastIndexOf('/') + 1);
  }

  private static String stem(String file) {
    String name = lastSegment(file);
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }
}
