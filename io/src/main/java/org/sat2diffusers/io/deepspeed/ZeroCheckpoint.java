package org.sat2diffusers.io.deepspeed;

import java.io.IOException;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.io.deepspeed.ZeroCheckpointException.Problem;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.io.torch.TensorRanges;
import org.sat2diffusers.io.torch.TensorRecipe;
import org.sat2diffusers.io.torch.TensorRecord;

/**
 * A DeepSpeed engine checkpoint (ZeRO stage 1, 2 or 3) read as tensor recipes: the fp32 masters
 * assembled from the ranks' optimizer partitions as byte ranges (no flat group is ever loaded), the
 * frozen parameters from their 16-bit copies or fragments, and under ZeRO-1/2 the 16-bit module.
 *
 * <p>The rules and checks are DeepSpeed v0.16.5's {@code deepspeed/utils/zero_to_fp32.py} (commit
 * 38327e07f6cd; line numbers below are that file's), which does the same by loading everything:
 * the ranks' partitions of one world size, every element accounted for, none left over. What it
 * does not check, partitions of different saves, is checked here through the optimizer step.
 */
public final class ZeroCheckpoint {
  /** engine.py _get_zero_ckpt_name (v0.16.5 line 2813): bf16_ when bf16 is on, then the dp rank. */
  private static final Pattern OPTIMIZER_FILE =
      Pattern.compile("((?:bf16_)?zero_pp_rank_)(\\d+)_mp_rank_00_optim_states\\.pt");
  /** engine.py _get_ckpt_name (lines 2819-2835): rank 0's file under ZeRO-1/2, every rank's under ZeRO-3. */
  private static final String STAGE2_MODEL_FILE = "mp_rank_00_model_states.pt";

  private final String folder;
  private final int stage;
  private final int worldSize;
  private final List<OptimizerPartition> partitions;
  private final List<ModelStates> modelStates;

  private ZeroCheckpoint(
      String folder, int stage, int worldSize, List<OptimizerPartition> partitions, List<ModelStates> modelStates) {
    this.folder = folder;
    this.stage = stage;
    this.worldSize = worldSize;
    this.partitions = partitions;
    this.modelStates = modelStates;
  }

  /**
   * Reads the checkpoint in {@code folder}: a save_checkpoint folder whose {@code latest} names the
   * tag folder, or the tag folder itself. Reads every rank's pickles and storage headers, no tensor
   * bytes but each optimizer's step count.
   */
  public static ZeroCheckpoint open(String folder) throws IOException {
    String tagFolder = tagFolder(StorageFiles.isLocal(folder) ? Paths.get(folder).toAbsolutePath().normalize().toString() : folder);
    List<String> files = StorageFiles.list(tagFolder + "/*");
    Map<Integer, String> optimizerFiles = new TreeMap<>();
    String prefix = null;
    for (String file : files) {
      Matcher m = OPTIMIZER_FILE.matcher(name(file));
      if (m.matches()) {
        optimizerFiles.put(Integer.parseInt(m.group(2)), file);
        prefix = m.group(1);
      }
    }
    if (optimizerFiles.isEmpty()) {
      throw new ZeroCheckpointException(Problem.NOT_A_ZERO_CHECKPOINT, tagFolder,
          "no '*zero_pp_rank_<r>_mp_rank_00_optim_states.pt' optimizer partitions: not a DeepSpeed ZeRO checkpoint");
    }
    String rank0 = tagFolder + "/" + prefix + "0_mp_rank_00_optim_states.pt";
    if (!optimizerFiles.containsKey(0)) {
      throw new ZeroCheckpointException(Problem.MISSING_FILE, rank0,
          "rank 0's optimizer partition is missing (found ranks " + optimizerFiles.keySet() + ")");
    }
    OptimizerPartition first = OptimizerPartition.read(optimizerFiles.get(0));
    // zero_to_fp32.py parse_optim_states lines 161-174: the world size is rank 0's partition_count
    // (its largest entry under ZeRO-2), and there must be that many partition files
    int worldSize = first.partitionCount().stream().mapToInt(Long::intValue).max().orElse(0);
    if (worldSize < 1) {
      throw PickledData.malformed(first.file(), "partition_count " + first.partitionCount() + " names no ranks");
    }
    List<OptimizerPartition> partitions = new ArrayList<>(List.of(first));
    for (int r = 1; r < worldSize; r++) {
      String expected = tagFolder + "/" + prefix + r + "_mp_rank_00_optim_states.pt";
      if (!optimizerFiles.containsKey(r)) {
        throw new ZeroCheckpointException(Problem.MISSING_FILE, expected,
            "rank " + r + "'s optimizer partition is missing: partition_count " + first.partitionCount() + " in "
                + name(first.file()) + " calls for " + worldSize + " ranks, found ranks " + optimizerFiles.keySet());
      }
      partitions.add(checkSameRun(first, OptimizerPartition.read(optimizerFiles.get(r)), r));
    }
    for (Map.Entry<Integer, String> extra : optimizerFiles.entrySet()) {
      if (extra.getKey() >= worldSize) {
        throw new ZeroCheckpointException(Problem.WORLD_SIZE_MISMATCH, extra.getValue(),
            "a partition of rank " + extra.getKey() + ", but partition_count " + first.partitionCount() + " in "
                + name(first.file()) + " says the run had " + worldSize + " ranks");
      }
    }
    int stage = first.stage();
    if (stage < 1 || stage > 3) {
      throw PickledData.malformed(first.file(), "zero stage " + stage + " has no partitioned fp32 masters");
    }
    List<ModelStates> modelStates = new ArrayList<>();
    if (stage <= 2) {
      modelStates.add(ModelStates.read(requireFile(files, tagFolder + "/" + STAGE2_MODEL_FILE, "the model states")));
    } else {
      for (int r = 0; r < worldSize; r++) {
        String file = tagFolder + "/zero_pp_rank_" + r + "_mp_rank_00_model_states.pt";
        modelStates.add(ModelStates.read(requireFile(files, file, "rank " + r + "'s model states")));
      }
    }
    checkModelStates(modelStates, first, worldSize);
    return new ZeroCheckpoint(tagFolder, stage, worldSize, List.copyOf(partitions), List.copyOf(modelStates));
  }

  /** The tag folder the files are in (the folder {@code latest} names), as zero_to_fp32.py lines 578-589 find it. */
  public String folder() {
    return folder;
  }

  public int stage() {
    return stage;
  }

  public int worldSize() {
    return worldSize;
  }

  /** The DeepSpeed version that wrote the model states, null if they do not say. */
  public String dsVersion() {
    return modelStates.get(0).dsVersion();
  }

  /** Every file the recipes may read, model states first. */
  public List<String> files() {
    List<String> files = new ArrayList<>();
    modelStates.forEach(m -> files.add(m.file()));
    partitions.forEach(p -> files.add(p.file()));
    return files;
  }

  /**
   * The full-precision state dict zero_to_fp32.py gives, as recipes, in its order: buffers (as the
   * module holds them; zero_to_fp32 upcasts them to fp32, line 114), frozen parameters (16-bit, as
   * it leaves them), trainable parameters (fp32 masters), tied aliases.
   */
  public List<TensorRecipe> fp32Master() throws ZeroCheckpointException {
    Map<String, TensorRecipe> tensors = new LinkedHashMap<>();
    ModelStates rank0 = modelStates.get(0);
    for (String buffer : rank0.bufferNames()) {
      TensorRecord record = rank0.module().get(buffer);
      if (record != null) {
        tensors.put(buffer, TensorRecipe.of(rank0.file(), record));
      }
    }
    if (stage <= 2) {
      frozenStage2(tensors);
      trainableStage2(tensors);
    } else {
      frozenStage3(tensors);
      trainableStage3(tensors);
    }
    // lines 341-343: a tied parameter takes its partner's value
    for (Map.Entry<String, String> shared : rank0.sharedParams().entrySet()) {
      TensorRecipe partner = tensors.get(shared.getValue());
      if (partner != null) {
        tensors.put(shared.getKey(), partner.named(shared.getKey()));
      }
    }
    return List.copyOf(tensors.values());
  }

  /**
   * The 16-bit module of {@code mp_rank_00_model_states.pt} (ZeRO-1/2, where DeepSpeed copies the
   * masters into it after each step). Under ZeRO-3 the module holds empty placeholders: an error
   * naming {@code fp32-master}.
   */
  public List<TensorRecipe> module() throws ZeroCheckpointException {
    ModelStates states = modelStates.get(0);
    if (stage == 3) {
      throw new ZeroCheckpointException(Problem.MODULE_IS_PLACEHOLDER, states.file(),
          "a ZeRO-3 checkpoint's module weights are empty placeholders (the parameters live partitioned in the"
              + " optimizer files): the 16-bit module cannot be read; use the fp32 masters (--weights fp32-master)");
    }
    List<TensorRecipe> tensors = new ArrayList<>();
    for (TensorRecord record : states.module().values()) {
      tensors.add(TensorRecipe.of(states.file(), record));
    }
    return tensors;
  }

  /** _zero2_merge_frozen_params (lines 215-245): each frozen parameter is its whole 16-bit fragment. */
  private void frozenStage2(Map<String, TensorRecipe> tensors) throws ZeroCheckpointException {
    ModelStates states = modelStates.get(0);
    for (Map.Entry<String, List<Long>> frozen : states.frozenShapes().entrySet()) {
      TensorRecord fragment = fragment(states, frozen.getKey());
      if (fragment.numel() != Shapes.numel(frozen.getValue())) {
        throw new ZeroCheckpointException(Problem.ELEMENTS_MISSING, states.file(),
            "frozen parameter '" + frozen.getKey() + "' has shape " + frozen.getValue() + " but its fragment holds "
                + fragment.numel() + " elements");
      }
      tensors.put(frozen.getKey(), new TensorRecipe(
          frozen.getKey(), fragment.dtype(), frozen.getValue(), TensorRanges.ranges(states.file(), fragment)));
    }
  }

  /**
   * _zero2_merge_trainable_params (lines 252-322): a group's partitions concatenated in rank order
   * hold its parameters back to back; what is left is the padding to a multiple of 2 x world size
   * (stage_1_and_2.py line 356), no more.
   */
  private void trainableStage2(Map<String, TensorRecipe> tensors) throws ZeroCheckpointException {
    List<Map<String, List<Long>>> groups = modelStates.get(0).paramShapes();
    for (int g = 0; g < groups.size(); g++) {
      FlatRanges flat = new FlatRanges(Dtype.F32.size());
      long partitionSize = -1;
      for (OptimizerPartition partition : partitions) {
        TensorRecord group = partition.groups().get(g);
        // stage_1_and_2.py lines 381-390: every rank's partition has one size, padding included.
        // Since 0.16.4 (commit 4fea41f40) each rank records the padding in its own partition; before,
        // only the last rank did, which gives the same partitions whenever the padding fit in it
        long size = group.numel() + partition.groupPaddings().get(g);
        if (partitionSize >= 0 && size != partitionSize) {
          throw new ZeroCheckpointException(Problem.WORLD_SIZE_MISMATCH, partition.file(),
              "group " + g + "'s partition holds " + size + " elements with its padding, rank 0's " + partitionSize
                  + ": not a partition of the same flat group");
        }
        partitionSize = size;
        flat.add(new ByteRange(partition.file(), group.fileOffset(), group.byteLength()));
      }
      long offset = 0;
      for (Map.Entry<String, List<Long>> param : groups.get(g).entrySet()) {
        long numel = Shapes.numel(param.getValue());
        if (offset + numel > flat.numel()) {
          throw missing(g, param.getKey(), offset, numel, flat.numel());
        }
        tensors.put(param.getKey(), new TensorRecipe(param.getKey(), Dtype.F32, param.getValue(), flat.slice(offset, numel)));
        offset += numel;
      }
      long alignTo = 2L * worldSize; // lines 300-320
      if (align(offset, alignTo) != align(flat.numel(), alignTo)) {
        throw new ZeroCheckpointException(Problem.ELEMENTS_LEFT_OVER, partitions.get(partitions.size() - 1).file(),
            "group " + g + "'s " + worldSize + " partitions hold " + flat.numel() + " elements, but its parameters"
                + " take " + offset + " (padding to a multiple of " + alignTo + " allowed): elements left over");
      }
    }
  }

  /** _zero3_merge_frozen_params (lines 355-385): the ranks' fragments concatenated, cut to the parameter's size. */
  private void frozenStage3(Map<String, TensorRecipe> tensors) throws ZeroCheckpointException {
    for (Map.Entry<String, List<Long>> frozen : modelStates.get(0).frozenShapes().entrySet()) {
      long numel = Shapes.numel(frozen.getValue());
      long perRank = ceilDiv(numel, worldSize); // zero3_partitioned_param_info, lines 348-352
      List<ByteRange> ranges = new ArrayList<>();
      Dtype dtype = null;
      for (int r = 0; r < worldSize; r++) {
        ModelStates states = modelStates.get(r);
        TensorRecord fragment = fragment(states, frozen.getKey());
        if (fragment.numel() != perRank || (dtype != null && fragment.dtype() != dtype)) {
          throw new ZeroCheckpointException(Problem.ELEMENTS_MISSING, states.file(),
              "rank " + r + "'s fragment of frozen parameter '" + frozen.getKey() + "' (shape " + frozen.getValue()
                  + ") holds " + fragment.numel() + " " + fragment.dtype() + " elements, not the " + perRank
                  + " each of " + worldSize + " ranks holds");
        }
        dtype = fragment.dtype();
        long take = Math.max(0, Math.min(perRank, numel - r * perRank));
        if (take > 0) {
          ByteRange whole = TensorRanges.ranges(states.file(), fragment).get(0);
          FlatRanges.append(ranges, new ByteRange(whole.file(), whole.offset(), take * dtype.size()));
        }
      }
      tensors.put(frozen.getKey(), new TensorRecipe(frozen.getKey(), dtype, frozen.getValue(), ranges));
    }
  }

  /**
   * _zero3_merge_trainable_params (lines 437-487): each parameter takes ceil(numel / world size)
   * elements of every rank's groups (concatenated in order), rank r holding elements [r·p, (r+1)·p)
   * of it; the last rank's tail past numel is padding.
   */
  private void trainableStage3(Map<String, TensorRecipe> tensors) throws ZeroCheckpointException {
    List<FlatRanges> flats = new ArrayList<>();
    for (OptimizerPartition partition : partitions) {
      FlatRanges flat = new FlatRanges(Dtype.F32.size());
      for (TensorRecord group : partition.groups()) {
        flat.add(new ByteRange(partition.file(), group.fileOffset(), group.byteLength()));
      }
      if (!flats.isEmpty() && flat.numel() != flats.get(0).numel()) {
        throw new ZeroCheckpointException(Problem.WORLD_SIZE_MISMATCH, partition.file(),
            "its fp32_flat_groups hold " + flat.numel() + " elements, rank 0's " + flats.get(0).numel()
                + ": not partitions of the same parameters");
      }
      flats.add(flat);
    }
    long available = flats.get(0).numel();
    long offset = 0;
    for (Map<String, List<Long>> group : modelStates.get(0).paramShapes()) {
      for (Map.Entry<String, List<Long>> param : group.entrySet()) {
        long numel = Shapes.numel(param.getValue());
        long perRank = ceilDiv(numel, worldSize);
        if (offset + perRank > available) {
          throw missing(-1, param.getKey(), offset * worldSize, perRank * worldSize, available * worldSize);
        }
        List<ByteRange> ranges = new ArrayList<>();
        for (int r = 0; r < worldSize; r++) {
          long take = Math.max(0, Math.min(perRank, numel - r * perRank));
          for (ByteRange range : flats.get(r).slice(offset, take)) {
            FlatRanges.append(ranges, range);
          }
        }
        tensors.put(param.getKey(), new TensorRecipe(param.getKey(), Dtype.F32, param.getValue(), ranges));
        offset += perRank;
      }
    }
    if (offset != available) { // lines 482-485
      throw new ZeroCheckpointException(Problem.ELEMENTS_LEFT_OVER, partitions.get(0).file(),
          "the parameters take " + offset + " elements of each rank's fp32_flat_groups, which hold " + available
              + ": elements left over");
    }
  }

  private ZeroCheckpointException missing(int group, String name, long offset, long numel, long available) {
    String last = partitions.get(partitions.size() - 1).file();
    return new ZeroCheckpointException(Problem.ELEMENTS_MISSING, last,
        (group >= 0 ? "group " + group + ": " : "") + "parameter '" + name + "' needs elements [" + offset + ", "
            + (offset + numel) + "), but the " + worldSize + " partitions hold only " + available);
  }

  private static TensorRecord fragment(ModelStates states, String name) throws ZeroCheckpointException {
    TensorRecord fragment = states.frozenFragments().get(name);
    if (fragment == null) {
      throw new ZeroCheckpointException(Problem.ELEMENTS_MISSING, states.file(),
          "frozen parameter '" + name + "' is in frozen_param_shapes but has no entry in frozen_param_fragments");
    }
    if (!fragment.contiguous()) {
      throw PickledData.malformed(states.file(), "the fragment of frozen parameter '" + name + "' is not contiguous");
    }
    return fragment;
  }

  /** The ranks' partitions must come from one save: stage, world size, groups and optimizer step agree. */
  private static OptimizerPartition checkSameRun(OptimizerPartition first, OptimizerPartition other, int rank)
      throws ZeroCheckpointException {
    if (!other.partitionCount().equals(first.partitionCount())) {
      throw new ZeroCheckpointException(Problem.WORLD_SIZE_MISMATCH, other.file(),
          "partition_count " + other.partitionCount() + ", but rank 0's " + name(first.file()) + " has "
              + first.partitionCount() + ": a partition of a run with another world size");
    }
    if (other.stage() != first.stage() || other.groups().size() != first.groups().size()) {
      throw new ZeroCheckpointException(Problem.OTHER_RUN, other.file(),
          "ZeRO stage " + other.stage() + " with " + other.groups().size() + " groups, but rank 0's " + name(first.file())
              + " has stage " + first.stage() + " with " + first.groups().size() + ": not partitions of one run");
    }
    // the ranks step together: a different step count means another run or another save of it
    if (Double.compare(other.step(), first.step()) != 0) {
      throw new ZeroCheckpointException(Problem.OTHER_RUN, other.file(),
          "rank " + rank + "'s optimizer is at step " + fmt(other.step()) + ", rank 0's (" + name(first.file()) + ") at step "
              + fmt(first.step()) + ": partitions of different runs or saves");
    }
    return other;
  }

  private static void checkModelStates(List<ModelStates> modelStates, OptimizerPartition first, int worldSize)
      throws ZeroCheckpointException {
    ModelStates rank0 = modelStates.get(0);
    for (ModelStates states : modelStates) {
      if (states.dpWorldSize() >= 0 && states.dpWorldSize() != worldSize) {
        throw new ZeroCheckpointException(Problem.WORLD_SIZE_MISMATCH, states.file(),
            "dp_world_size " + states.dpWorldSize() + ", but the optimizer partitions were made by " + worldSize + " ranks");
      }
      if (states.globalSteps() != rank0.globalSteps() || !states.paramShapes().equals(rank0.paramShapes())
          || !states.frozenShapes().equals(rank0.frozenShapes())) {
        throw new ZeroCheckpointException(Problem.OTHER_RUN, states.file(),
            "its global_steps or parameter shapes differ from " + name(rank0.file()) + "'s: not one save of one run");
      }
    }
    if (rank0.paramShapes().size() != first.groups().size()) {
      throw new ZeroCheckpointException(Problem.OTHER_RUN, first.file(),
          first.groups().size() + " fp32 groups, but param_shapes in " + name(rank0.file()) + " lists "
              + rank0.paramShapes().size() + ": not the optimizer of this model");
    }
  }

  private static String tagFolder(String folder) throws IOException {
    String trimmed = folder.endsWith("/") ? folder.substring(0, folder.length() - 1) : folder;
    String latest = trimmed + "/latest";
    if (!StorageFiles.exists(latest)) {
      return trimmed;
    }
    String tag = StorageFiles.readString(latest, 1024).trim();
    if (tag.isEmpty() || tag.contains("/") || tag.equals("..")) {
      throw new ZeroCheckpointException(Problem.NOT_A_ZERO_CHECKPOINT, latest,
          "'latest' should name a tag folder beside it, but holds '" + tag + "'");
    }
    return trimmed + "/" + tag;
  }

  private static String requireFile(List<String> files, String file, String what) throws ZeroCheckpointException {
    if (!files.contains(file)) {
      throw new ZeroCheckpointException(Problem.MISSING_FILE, file, what + " file is missing");
    }
    return file;
  }

  static String name(String file) {
    return file.substring(file.lastIndexOf('/') + 1);
  }

  private static long align(long value, long to) {
    return ceilDiv(value, to) * to;
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  private static String fmt(double step) {
    return step == Math.rint(step) ? Long.toString((long) step) : Double.toString(step);
  }
}
