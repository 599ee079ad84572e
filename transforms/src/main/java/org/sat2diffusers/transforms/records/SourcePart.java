package org.sat2diffusers.transforms.records;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.io.torch.TensorRecipe;
import org.sat2diffusers.io.torch.TensorRecord;

/**
 * One part of a checkpoint as planning takes it, described without tensor bytes: either one torch
 * file's index (its tensors as records; the model-parallel ranks of an iteration are merged by the
 * planner) or the tensors a reader assembled as {@link TensorRecipe}s, byte ranges possibly over
 * several files (ZeRO fp32 masters from the optimizer partitions, SAT's z3 ranks, ...). A checkpoint
 * is a list of parts: e.g. a transformer read as recipes and the released VAE file beside it.
 * Everything after {@link #sourceTensors} is the one planning path.
 *
 * @param path the torch file, or the folder (or file) the recipes were read from: for messages and the report
 * @param torchFile the torch file's index, or null for recipes
 * @param recipes the tensors in the source's order, or null for a torch file
 * @param names what the keys are
 */
public record SourcePart(String path, CheckpointIndex torchFile, List<TensorRecipe> recipes, KeyNames names) {
  public SourcePart {
    if ((torchFile == null) == (recipes == null)) {
      throw new IllegalArgumentException(path + ": a source part is a torch file or recipes, exactly one");
    }
    recipes = recipes == null ? null : List.copyOf(recipes);
  }

  /** A torch checkpoint file, its key names told by its keys ({@link KeyNames#of}). */
  public static SourcePart torchFile(CheckpointIndex index) {
    return new SourcePart(index.path(), index, null,
        KeyNames.of(index.tensors().stream().map(TensorRecord::key).toList()));
  }

  /** Tensors a reader assembled as recipes, read from {@code path}, their key names told by their keys. */
  public static SourcePart recipes(String path, List<TensorRecipe> recipes) {
    return new SourcePart(path, null, recipes, KeyNames.of(recipes.stream().map(TensorRecipe::key).toList()));
  }

  /** Torch checkpoint files, in order. */
  public static List<SourcePart> torchFiles(List<CheckpointIndex> files) {
    return files.stream().map(SourcePart::torchFile).toList();
  }

  public boolean isTorchFile() {
    return torchFile != null;
  }

  public int tensorCount() {
    return isTorchFile() ? torchFile.tensors().size() : recipes.size();
  }

  /** The files whose bytes the part's tensors are read from, in first-use order. */
  public List<String> files() {
    return isTorchFile() ? List.of(path)
        : recipes.stream().flatMap(r -> r.files().stream()).distinct().toList();
  }

  /**
   * The part's tensors as planning takes them, in order. A recipe becomes a contiguous record of its
   * dtype and shape whose bytes are its ranges ({@link SourceTensor#mergedRanges}), in the file of its
   * first range (the part's path when it has none). Recipes of the very same ranges are one tensor
   * under several names (tied weights: T5's shared and embed_tokens), which the records say as torch's
   * do: one storage, {@link TensorRecord#sharedWith} the other names.
   */
  public List<SourceTensor> sourceTensors() {
    List<SourceTensor> out = new ArrayList<>();
    if (isTorchFile()) {
      torchFile.tensors().forEach(t -> out.add(new SourceTensor(path, t, null, names)));
      return out;
    }
    Map<List<ByteRange>, List<String>> keysOfRanges = new HashMap<>();
    for (TensorRecipe r : recipes) {
      if (!r.ranges().isEmpty()) {
        keysOfRanges.computeIfAbsent(r.ranges(), k -> new ArrayList<>()).add(r.key());
      }
    }
    for (TensorRecipe r : recipes) {
      List<Long> stride = new ArrayList<>(r.shape());
      long next = 1;
      for (int i = r.shape().size() - 1; i >= 0; i--) {
        stride.set(i, next);
        next *= r.shape().get(i);
      }
      ByteRange first = r.ranges().isEmpty() ? new ByteRange(path, 0, 0) : r.ranges().get(0);
      List<String> tied = r.ranges().isEmpty() ? List.of()
          : keysOfRanges.get(r.ranges()).stream().filter(k -> !k.equals(r.key())).sorted().toList();
      TensorRecord record = new TensorRecord(r.key(), r.dtype(), r.shape(), stride, "recipe@" + first.offset(), 0,
          first.offset(), r.byteLength(), tied);
      out.add(new SourceTensor(first.file(), record, r.ranges(), names));
    }
    return out;
  }
}
