package org.sat2diffusers.io.trainer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.io.FileSystems;
import org.sat2diffusers.io.sat.RecipeFolder;
import org.sat2diffusers.io.sat.SatCheckpoint;
import org.sat2diffusers.io.sat.SatLayout;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.storage.TreeListing;

/**
 * The checkpoints of Diffusers-based trainers as conversions take them ({@link SatCheckpoint}s): a
 * {@code checkpoint-<step>/} folder (accelerate's and CogKit's name for a save at a step), or a
 * trainer's output folder holding such folders, whose "iterations" are the steps. A checkpoint's
 * iteration is its folder name. With DeepSpeed, its weights are the ZeRO save in the folder its
 * {@code latest} names (read as SAT's DeepSpeed iterations are: {@code --weights} applies); otherwise
 * the folder is a {@link RecipeFolder.Kind#TRAINER} read by {@link TrainerCheckpoint#model}.
 */
public final class TrainerLayout {
  private static final Pattern CHECKPOINT_FOLDER = Pattern.compile("checkpoint-(\\d+)");
  /** Files only a trainer checkpoint holds (never a SAT run or iteration folder). */
  private static final List<String> TRAINER_FILES = List.of(TrainerCheckpoint.SAFETENSORS_FILE,
      TrainerCheckpoint.BIN_FILE, ".metadata", TrainerCheckpoint.LORA_FILE);

  private TrainerLayout() {}

  /**
   * The checkpoint {@code path} names when it is a trainer's: a folder named {@code checkpoint-<step>},
   * or one holding {@code model.safetensors}, {@code pytorch_model.bin}, a DCP {@code .metadata} or a
   * PEFT LoRA file. Empty for anything else (a SAT layout, a file). A folder that is a trainer's but
   * holds none of its layouts is an error naming it.
   */
  public static Optional<SatCheckpoint> checkpoint(String path) throws IOException {
    String dir = stripSlash(path);
    if (dir.endsWith(".pt") || dir.endsWith(".safetensors")) {
      return Optional.empty();
    }
    List<String> names = StorageFiles.list(dir + "/*").stream().map(TrainerLayout::lastSegment).toList();
    boolean named = CHECKPOINT_FOLDER.matcher(lastSegment(dir)).matches() && !names.isEmpty();
    if (!named && TRAINER_FILES.stream().noneMatch(names::contains)) {
      return Optional.empty();
    }
    return Optional.of(of(path, TrainerCheckpoint.recognize(dir)));
  }

  /** The trainer output folder {@code path} is (its {@code checkpoint-<step>} folders); empty when it holds none. */
  public static Optional<TrainerRun> run(String path) throws IOException {
    String dir = stripSlash(path);
    Map<Long, String> steps = new TreeMap<>();
    for (String file : StorageFiles.list(dir + "/checkpoint-*/*")) {
      String folder = parent(file);
      Matcher m = CHECKPOINT_FOLDER.matcher(lastSegment(folder));
      if (m.matches() && parent(folder).equals(dir)) {
        steps.put(Long.parseLong(m.group(1)), folder);
      }
    }
    return steps.isEmpty() ? Optional.empty() : Optional.of(new TrainerRun(dir, lastSegment(dir), steps));
  }

  /**
   * Every trainer output folder below {@code root} (the root included), from one listing: folders
   * holding {@code checkpoint-<step>/} folders with files in them, at most {@code maxDepth} levels
   * down, ordered by path below the root.
   */
  public static List<TrainerRun> discover(String root, int maxDepth) throws IOException {
    String prefix = FileSystems.matchNewResource(root, true).toString();
    prefix = prefix.endsWith("/") ? prefix : prefix + "/";
    Map<String, Map<Long, String>> runs = new TreeMap<>();
    for (String file : TreeListing.files(prefix, maxDepth)) {
      String folder = parent(file.substring(prefix.length()));
      Matcher m = CHECKPOINT_FOLDER.matcher(lastSegment(folder));
      if (m.matches()) {
        runs.computeIfAbsent(parent(folder), k -> new TreeMap<>()).put(Long.parseLong(m.group(1)), prefix + folder);
      }
    }
    List<TrainerRun> found = new ArrayList<>();
    for (Map.Entry<String, Map<Long, String>> run : runs.entrySet()) {
      String rel = run.getKey();
      found.add(new TrainerRun(rel.isEmpty() ? prefix.substring(0, prefix.length() - 1) : prefix + rel, rel,
          run.getValue()));
    }
    return found;
  }

  /** The checkpoint of one recognized trainer folder, {@code source} being the path the user gave. */
  static SatCheckpoint of(String source, TrainerCheckpoint checkpoint) throws IOException {
    String iteration = lastSegment(checkpoint.folder());
    switch (checkpoint.layout()) {
      case DEEPSPEED: {
        // a LoRA run's module is PEFT-injected (base_layer, lora_A/lora_B): the planner merges it as it
        // does for the same save given directly; the PEFT file beside it holds the same LoRA
        SatCheckpoint zero = SatLayout.resolve(deepSpeedFolder(checkpoint.folder()));
        return new SatCheckpoint(source, iteration, zero.files(), zero.recipeFolders());
      }
      default: // a LoRA-only checkpoint too: read onto --base-pipeline's transformer, or refused then
        return new SatCheckpoint(source, iteration, checkpoint.files(),
            List.of(new RecipeFolder(RecipeFolder.Kind.TRAINER, checkpoint.folder())));
    }
  }

  /**
   * The folder a DeepSpeed checkpoint's {@code latest} names (accelerate saves the engine's
   * {@code save_checkpoint(dir, "pytorch_model")}): a name beside it, nothing else.
   */
  private static String deepSpeedFolder(String folder) throws IOException {
    String latest = folder + "/latest";
    String tag = StorageFiles.readString(latest, 1024).trim();
    if (tag.isEmpty() || tag.contains("/") || tag.equals("..") || tag.equals(".")) {
      throw new TrainerCheckpointException(latest + ": should name the DeepSpeed tag folder beside it, but holds '" + tag + "'");
    }
    return folder + "/" + tag;
  }

  static String lastSegment(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  static String parent(String path) {
    return path.substring(0, Math.max(path.lastIndexOf('/'), 0));
  }

  private static String stripSlash(String path) {
    String p = path;
    while (p.length() > 1 && p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p;
  }
}
