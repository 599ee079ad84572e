package org.sat2diffusers.io.deepspeed;

import static org.sat2diffusers.io.deepspeed.PickledData.list;
import static org.sat2diffusers.io.deepspeed.PickledData.longValue;
import static org.sat2diffusers.io.deepspeed.PickledData.map;
import static org.sat2diffusers.io.deepspeed.PickledData.require;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchPickle;

/**
 * One rank's {@code [bf16_]zero_pp_rank_<r>_mp_rank_00_optim_states.pt}: where its fp32 master
 * partitions lie, never their bytes. ZeRO-1/2 save {@code single_partition_of_fp32_groups} (DeepSpeed
 * v0.16.5 stage_1_and_2.py state_dict, lines 2144-2184: one tensor per group, without its padding,
 * {@code group_paddings} saying how much), ZeRO-3 {@code fp32_flat_groups} (stage3.py
 * _rigid_state_dict, lines 2548-2561). The Adam moments ({@code exp_avg}, {@code exp_avg_sq}) and an
 * EMA {@code shadow} sit in the wrapped optimizer's state and are never taken for weights; only the
 * optimizer's step count is read, to tell partitions of different runs apart.
 *
 * @param file the file
 * @param stage the ZeRO stage
 * @param partitionCount the data-parallel world size, per group (ZeRO-2 saves a list, ZeRO-3 an int)
 * @param groups the fp32 partition of each group, in group order
 * @param groupPaddings ZeRO-2: the padding elements left out of each group's partition; ZeRO-3: empty
 * @param step the optimizer step of the first parameter state, or NaN when the state holds none
 * @param dsVersion the DeepSpeed version that wrote the file
 */
record OptimizerPartition(
    String file,
    int stage,
    List<Long> partitionCount,
    List<TensorRecord> groups,
    List<Long> groupPaddings,
    double step,
    String dsVersion) {

  static OptimizerPartition read(String file) throws IOException {
    return TorchFiles.parse(file, "optimizer partition", (pickle, in) -> parse(file, pickle, in));
  }

  private static OptimizerPartition parse(String file, TorchPickle pickle, RandomAccessInput in) throws IOException {
    Map<?, ?> root = map(file, "the top level", pickle.root());
    // engine _save_zero_checkpoint (v0.16.5 line 3637): {optimizer_state_dict, ds_config, ds_version}
    Map<?, ?> osd = map(file, "optimizer_state_dict", require(file, root, "optimizer_state_dict", "the top level"));
    PickledData.checkAllowed(file, "optimizer_state_dict", osd);
    // zero_to_fp32.py parse_optim_states (line 158): zero_stage marks a ZeRO partition
    int stage = PickledData.zeroStage(file, require(file, osd, "zero_stage", "optimizer_state_dict"));
    Object count = require(file, osd, "partition_count", "optimizer_state_dict");
    List<Long> partitionCount = new ArrayList<>();
    if (count instanceof List<?> counts) {
      for (Object c : counts) {
        partitionCount.add(longValue(file, "partition_count", c));
      }
    } else {
      partitionCount.add(longValue(file, "partition_count", count));
    }
    // zero_to_fp32.py lines 177-182: the groups are named differently in each stage
    String groupsKey = stage <= 2 ? "single_partition_of_fp32_groups" : "fp32_flat_groups";
    List<?> groupValues = list(file, groupsKey, require(file, osd, groupsKey, "optimizer_state_dict"));
    List<TensorRecord> groups = new ArrayList<>();
    for (int g = 0; g < groupValues.size(); g++) {
      TensorRecord group = pickle.tensor(groupsKey + "[" + g + "]", groupValues.get(g));
      if (group.dtype() != Dtype.F32 || group.shape().size() != 1 || !group.contiguous()) {
        throw PickledData.malformed(file, groupsKey + "[" + g + "] should be a flat fp32 tensor, but is "
            + group.dtype() + " " + group.shape());
      }
      groups.add(group);
    }
    List<Long> paddings = new ArrayList<>();
    if (stage <= 2) {
      for (Object p : list(file, "group_paddings", require(file, osd, "group_paddings", "optimizer_state_dict"))) {
        paddings.add(longValue(file, "group_paddings", p));
      }
      if (paddings.size() != groups.size()) {
        throw PickledData.malformed(file, "group_paddings has " + paddings.size() + " entries for " + groups.size() + " groups");
      }
    }
    Object base = osd.get(stage <= 2 ? "base_optimizer_state" : "optimizer_state_dict");
    Object version = root.get("ds_version");
    return new OptimizerPartition(
        file, stage, partitionCount, groups, paddings, step(file, pickle, in, base),
        version instanceof String s ? s : null);
  }

  /** The {@code step} of the wrapped optimizer's first parameter state: an int (FusedEmaAdam) or a scalar tensor (torch Adam). */
  private static double step(String file, TorchPickle pickle, RandomAccessInput in, Object base) throws IOException {
    if (!(base instanceof Map<?, ?> optimizer) || !(optimizer.get("state") instanceof Map<?, ?> state)) {
      return Double.NaN;
    }
    for (Object paramState : state.values()) {
      if (!(paramState instanceof Map<?, ?> entries) || !entries.containsKey("step")) {
        continue;
      }
      Object step = entries.get("step");
      if (step instanceof Long n) {
        return n;
      }
      if (step instanceof Double d) {
        return d;
      }
      if (TorchPickle.isTensor(step)) {
        TensorRecord tensor = pickle.tensor("step", step);
        if (tensor.numel() == 1 && (tensor.dtype() == Dtype.F32 || tensor.dtype() == Dtype.I64)) {
          byte[] bytes = new byte[tensor.dtype().size()];
          in.readFully(tensor.fileOffset(), bytes, 0, bytes.length);
          ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
          return tensor.dtype() == Dtype.F32 ? buffer.getFloat() : buffer.getLong();
        }
      }
      return Double.NaN;
    }
    return Double.NaN;
  }
}
