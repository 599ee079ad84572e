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
import org.sat2diffusers.io.torch.TorchPickle;

/**
 * SAT's own ZeRO-3 save, consolidated into its state dict as recipes. SwissArmyTransformer
 * {@code sat/training/model_io.py} (commit 63dc23aeb40b) save_ds_checkpoint_no_optim (lines 214-226)
 * has every data-parallel rank write {@code <iteration>/z3_rank_XX_model_states.pt} = {@code
 * {'module': {'module.<key>': 16-bit partition}}}, each partition carrying the full shape as the
 * attribute {@code ds_shape} (zero3_save_to_state_dict, lines 357-377). The partitions follow
 * DeepSpeed's partition_parameters.py _partition_param (v0.16.5 lines 1589-1645): ceil(numel / N)
 * elements per rank, rank r holding [r·p, (r+1)·p), the last rank's tail padding.
 */
public final class SatZero3Checkpoint {
  private static final Pattern RANK_FILE = Pattern.compile("z3_rank_(\\d+)_model_states\\.pt");
  private static final String KEY_PREFIX = "module.";

  private SatZero3Checkpoint() {}

  /** True when {@code folder} (an iteration folder) holds {@code z3_rank_*_model_states.pt} files. */
  public static boolean isZero3Iteration(String folder) throws IOException {
    return !StorageFiles.list(folder + "/z3_rank_*_model_states.pt").isEmpty();
  }

  /**
   * The consolidated state dict of the iteration folder {@code folder}, keys without the engine's
   * {@code module.} prefix (as SAT's own loader gives them), in rank 0's order.
   */
  public static List<TensorRecipe> consolidate(String folder) throws IOException {
    String dir = StorageFiles.isLocal(folder) ? Paths.get(folder).toAbsolutePath().normalize().toString() : folder;
    Map<Integer, String> files = new TreeMap<>();
    for (String file : StorageFiles.list(dir + "/z3_rank_*_model_states.pt")) {
      Matcher m = RANK_FILE.matcher(ZeroCheckpoint.name(file));
      if (m.matches()) {
        files.put(Integer.parseInt(m.group(1)), file);
      }
    }
    if (files.isEmpty()) {
      throw new ZeroCheckpointException(Problem.NOT_A_ZERO_CHECKPOINT, dir, "no z3_rank_XX_model_states.pt files");
    }
    int worldSize = files.size();
    for (int r = 0; r < worldSize; r++) {
      if (!files.containsKey(r)) {
        throw new ZeroCheckpointException(Problem.MISSING_FILE, dir + String.format("/z3_rank_%02d_model_states.pt", r),
            "rank " + r + "'s partition is missing (found ranks " + files.keySet() + ")");
      }
    }
    List<Map<String, Partition>> ranks = new ArrayList<>();
    for (int r = 0; r < worldSize; r++) {
      String file = files.get(r);
      ranks.add(TorchFiles.parse(file, "SAT ZeRO-3 partition", (pickle, in) -> partitions(file, pickle)));
    }
    List<TensorRecipe> recipes = new ArrayList<>();
    for (Map.Entry<String, Partition> entry : ranks.get(0).entrySet()) {
      String key = entry.getKey();
      List<Long> shape = entry.getValue().fullShape();
      Dtype dtype = entry.getValue().record().dtype();
      long numel = Shapes.numel(shape);
      long perRank = (numel + worldSize - 1) / worldSize;
      List<ByteRange> ranges = new ArrayList<>();
      for (int r = 0; r < worldSize; r++) {
        String file = files.get(r);
        Partition part = ranks.get(r).get(key);
        if (part == null) {
          throw new ZeroCheckpointException(Problem.OTHER_RUN, file, "has no partition of '" + key + "', which rank 0 has");
        }
        TensorRecord record = part.record();
        if (!part.fullShape().equals(shape) || record.dtype() != dtype) {
          throw new ZeroCheckpointException(Problem.OTHER_RUN, file, "'" + key + "' is " + record.dtype() + " of ds_shape "
              + part.fullShape() + ", rank 0's " + dtype + " " + shape + ": not partitions of one save");
        }
        if (record.numel() != perRank) {
          throw new ZeroCheckpointException(Problem.WORLD_SIZE_MISMATCH, file, "'" + key + "' (ds_shape " + shape
              + ") holds " + record.numel() + " elements, but with " + worldSize + " rank files each rank holds "
              + perRank + ": a rank file is missing or comes from a run with another world size");
        }
        long take = Math.max(0, Math.min(perRank, numel - r * perRank));
        if (take > 0) {
          ByteRange whole = TensorRanges.ranges(file, record).get(0);
          FlatRanges.append(ranges, new ByteRange(file, whole.offset(), take * dtype.size()));
        }
      }
      recipes.add(new TensorRecipe(key.substring(KEY_PREFIX.length()), dtype, shape, ranges));
    }
    for (int r = 1; r < worldSize; r++) {
      if (ranks.get(r).size() != ranks.get(0).size()) {
        throw new ZeroCheckpointException(Problem.OTHER_RUN, files.get(r),
            ranks.get(r).size() + " partitions, rank 0's file " + ranks.get(0).size() + ": not partitions of one save");
      }
    }
    return recipes;
  }

  private record Partition(TensorRecord record, List<Long> fullShape) {}

  private static Map<String, Partition> partitions(String file, TorchPickle pickle) throws IOException {
    Map<?, ?> root = PickledData.map(file, "the top level", pickle.root());
    Map<?, ?> module = PickledData.map(file, "module", PickledData.require(file, root, "module", "the top level"));
    Map<String, Partition> partitions = new LinkedHashMap<>();
    for (Map.Entry<?, ?> entry : module.entrySet()) {
      if (!(entry.getKey() instanceof String key) || !key.startsWith(KEY_PREFIX)) {
        throw PickledData.malformed(file, "module key " + entry.getKey() + " does not start with '" + KEY_PREFIX + "'");
      }
      TensorRecord record = pickle.tensor(key, entry.getValue());
      Object dsShape = TorchPickle.attributes(entry.getValue()).get("ds_shape");
      if (dsShape == null) {
        throw PickledData.malformed(file, "'" + key + "' carries no ds_shape: not a ZeRO-3 partition");
      }
      if (record.shape().size() != 1 || !record.contiguous()) {
        throw PickledData.malformed(file, "'" + key + "' should be a flat partition, but has shape " + record.shape());
      }
      partitions.put(key, new Partition(record, PickledData.shape(file, key + ".ds_shape", dsShape)));
    }
    return partitions;
  }
}
