package org.sat2diffusers.io.sat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.io.storage.StorageFiles;

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

  /** Resolves {@code path} to the checkpoint it names; the run folder's {@code latest} decides the iteration. */
  public static SatCheckpoint resolve(String path) throws IOException {
    String dir = stripSlash(path);
    if (dir.endsWith(".pt")) {
      requireFile(dir);
      return new SatCheckpoint(path, stem(dir), List.of(dir));
    }
    if (exists(join(dir, LATEST))) {
      String iteration = readLatest(join(dir, LATEST));
      return new SatCheckpoint(path, iteration, rankFiles(join(dir, iteration)));
    }
    if (exists(join(dir, "transformer/" + LATEST))) {
      String transformerDir = join(dir, "transformer");
      String iteration = readLatest(join(transformerDir, LATEST));
      List<String> files = new ArrayList<>(rankFiles(join(transformerDir, iteration)));
      files.addAll(list(join(dir, "vae/*.pt")));
      return new SatCheckpoint(path, iteration, files);
    }
    if (!list(join(dir, "mp_rank_*_model_states.pt")).isEmpty()
        || !list(join(dir, "z3_rank_*_model_states.pt")).isEmpty()) {
      return new SatCheckpoint(path, lastSegment(dir), rankFiles(dir));
    }
    throw new SatLayoutException(
        path
            + " is not a SAT checkpoint: expected a run folder with 'latest', an iteration folder with"
            + " mp_rank_00_model_states.pt, a .pt file, or a released layout with transformer/latest and vae/");
  }

  /** The model-parallel rank files of one iteration folder, rank 0 first. */
  static List<String> rankFiles(String iterationDir) throws IOException {
    List<String> files = list(join(iterationDir, "*_model_states.pt"));
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
    if (ranks.size() > 1) {
      throw new SatLayoutException(
          iterationDir + " holds " + ranks.size() + " model-parallel ranks; merging ranks is not supported yet"
              + " (convert a checkpoint saved with model parallel size 1)");
    }
    return ranks;
  }

  private static int rank(String file) {
    Matcher m = RANK_FILE.matcher(lastSegment(file));
    return m.matches() ? Integer.parseInt(m.group(1)) : Integer.MAX_VALUE;
  }

  private static String readLatest(String latestFile) throws IOException {
    String text = StorageFiles.readString(latestFile, 256).trim();
    if (text.isEmpty() || text.contains("/") || text.contains("..")) {
      throw new SatLayoutException(latestFile + " should name an iteration folder, but holds '" + text + "'");
    }
    return text;
  }

  private static void requireFile(String file) throws IOException {
    if (!exists(file)) {
      throw new SatLayoutException(file + " does not exist");
    }
  }

  private static boolean exists(String spec) throws IOException {
    return StorageFiles.exists(spec);
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
