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
  /** DeepSpeed engine.py _get_ckpt_name under ZeRO-3: every data-parallel rank saves model states. */
  private static final Pattern ZERO_STATES_FILE = Pattern.compile("zero_pp_rank_\\d+_mp_rank_\\d+_model_states\\.pt");

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
      if (RANK_FILE.matcher(lastSegment(dir)).matches() || ZERO3_FILE.matcher(lastSegment(dir)).matches()) {
        return iteration(path, lastSegment(parent(dir)), parent(dir), List.of());
      }
      return new SatCheckpoint(path, stem(dir), List.of(dir));
    }
    Optional<SatRun> run = findRun(dir);
    if (run.isPresent()) {
      SatCheckpoint latest = run.get().checkpoint(run.get().latestIteration());
      return new SatCheckpoint(path, latest.iteration(), latest.files(), latest.recipeFolders());
    }
    return iteration(path, lastSegment(dir), dir, List.of());
  }

  /**
   * The checkpoint of one iteration folder, then {@code extraFiles} (the released layout's VAE): its
   * model-parallel rank files ({@code mp_rank_XX_model_states.pt}); SAT's ZeRO-3 rank partitions
   * ({@code z3_rank_XX_model_states.pt}, a {@link RecipeFolder.Kind#SAT_ZERO3}); or a DeepSpeed ZeRO-3
   * engine save, whose model states are per data-parallel rank ({@code zero_pp_rank_<r>_mp_rank_00_model_states.pt},
   * a {@link RecipeFolder.Kind#DEEPSPEED_ZERO} with its optimizer partitions).
   */
  static SatCheckpoint iteration(String source, String iteration, String iterationDir, List<String> extraFiles)
      throws IOException {
    List<String> states = list(join(iterationDir, "*_model_states.pt"));
    List<String> files = new ArrayList<>();
    List<RecipeFolder> recipes = new ArrayList<>();
    if (states.stream().anyMatch(f -> ZERO3_FILE.matcher(lastSegment(f)).matches())) {
      files.addAll(states.stream().filter(f -> ZERO3_FILE.matcher(lastSegment(f)).matches()).sorted().toList());
      recipes.add(new RecipeFolder(RecipeFolder.Kind.SAT_ZERO3, iterationDir));
    } else if (states.stream().noneMatch(f -> RANK_FILE.matcher(lastSegment(f)).matches())
        && states.stream().anyMatch(f -> ZERO_STATES_FILE.matcher(lastSegment(f)).matches())) {
      files.addAll(zeroFiles(iterationDir));
      recipes.add(new RecipeFolder(RecipeFolder.Kind.DEEPSPEED_ZERO, iterationDir));
    } else {
      files.addAll(rankFiles(iterationDir, states));
    }
    files.addAll(extraFiles);
    return new SatCheckpoint(source, iteration, files, recipes);
  }

  /**
   * The checkpoint read for its fp32 masters ({@code --weights fp32-master}): its transformer's
   * iteration folder becomes a {@link RecipeFolder.Kind#DEEPSPEED_ZERO} read with its optimizer
   * partitions; files of other folders (the released layout's VAE) stay. An error when that folder
   * holds no ZeRO optimizer partitions, or is SAT's ZeRO-3 save (which keeps no optimizer state).
   */
  public static SatCheckpoint withFp32Masters(SatCheckpoint checkpoint) throws IOException {
    String dir = parent(checkpoint.files().get(0));
    for (RecipeFolder r : checkpoint.recipeFolders()) {
      if (r.folder().equals(dir) && r.kind() == RecipeFolder.Kind.DEEPSPEED_ZERO) {
        return checkpoint;
      }
      if (r.folder().equals(dir) && r.kind() == RecipeFolder.Kind.SAT_ZERO3) {
        throw new SatLayoutException(dir + ": --weights fp32-master needs the optimizer's fp32 masters, but SAT's ZeRO-3"
            + " save (z3_rank_XX_model_states.pt) keeps no optimizer state: convert its 16-bit module (--weights module)");
      }
    }
    if (list(join(dir, "*_optim_states.pt")).isEmpty()) {
      throw new SatLayoutException(dir + ": --weights fp32-master needs DeepSpeed ZeRO optimizer partitions"
          + " (*zero_pp_rank_<r>_mp_rank_00_optim_states.pt) beside the model states, and there are none: only the"
          + " module's weights are saved here (--weights module)");
    }
    List<String> files = new ArrayList<>(zeroFiles(dir));
    checkpoint.files().stream().filter(f -> !parent(f).equals(dir)).forEach(files::add);
    return new SatCheckpoint(checkpoint.source(), checkpoint.iteration(), files,
        List.of(new RecipeFolder(RecipeFolder.Kind.DEEPSPEED_ZERO, dir)));
  }

  /** A DeepSpeed save's model states and optimizer partitions, model states first, each sorted. */
  private static List<String> zeroFiles(String dir) throws IOException {
    List<String> files = new ArrayList<>(list(join(dir, "*_model_states.pt")).stream().sorted().toList());
    files.addAll(list(join(dir, "*_optim_states.pt")).stream().sorted().toList());
    return files;
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
    return lastSegment(runFolder(checkpoint));
  }

  /**
   * The folder of the run a checkpoint comes from, where SAT saves {@code model_config.json}: the
   * folder above its iteration folder for rank files (for the released layout: {@code transformer/}),
   * else the folder holding the file.
   */
  public static String runFolder(SatCheckpoint checkpoint) {
    String first = checkpoint.files().get(0);
    String folder = parent(first);
    boolean iterationFolder = RANK_FILE.matcher(lastSegment(first)).matches()
        || checkpoint.recipeFolders().stream().anyMatch(r -> r.folder().equals(folder));
    return iterationFolder ? parent(folder) : folder;
  }

  /** The {@code model_config.json} of the checkpoint's {@link #runFolder}, if it has one. */
  public static Optional<String> runModelConfig(SatCheckpoint checkpoint) throws IOException {
    String file = join(runFolder(checkpoint), "model_config.json");
    return StorageFiles.exists(file) ? Optional.of(StorageFiles.readString(file, 1 << 20)) : Optional.empty();
  }

  /**
   * The rank files among {@code files} (the iteration folder's {@code *_model_states.pt}), rank 0
   * first, checked: ranks 0..N-1 all present.
   */
  static List<String> rankFiles(String iterationDir, List<String> files) throws SatLayoutException {
    List<String> ranks = new ArrayList<>();
    for (String f : files) {
      String name = lastSegment(f);
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

  static String parent(String path) {
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
