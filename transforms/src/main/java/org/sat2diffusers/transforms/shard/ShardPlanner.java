package org.sat2diffusers.transforms.shard;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.safetensors.ShardIndex;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * Splits a component's tensors into weight files as huggingface_hub's
 * {@code split_torch_state_dict_into_shards} does, so a converted folder is sharded like one Diffusers
 * or transformers saved. Walking the tensors in order: one larger than the limit becomes a shard of its
 * own, appended at once while the open shard stays open (so it can come before earlier tensors'
 * shard); otherwise, if it would make the open shard exceed the limit, that shard closes and a new one
 * opens. Sizes are tensor bytes.
 */
public final class ShardPlanner {
  private ShardPlanner() {}

  /**
   * @param tensors the component's tensors in state-dict order
   * @param component the component, whose file stem names the files ({@code diffusion_pytorch_model} or
   *     {@code model})
   * @param maxShardBytes the limit, in bytes
   * @return the shards in file order: one named {@code <stem>.safetensors} (no index needed), or
   *     {@code <stem>-0000i-of-0000N.safetensors}; empty when there are no tensors
   */
  public static List<PlannedShard> plan(List<OutputTensor> tensors, Component component, long maxShardBytes) {
    if (maxShardBytes <= 0) {
      throw new IllegalArgumentException("max shard size must be positive, got " + maxShardBytes);
    }
    List<List<OutputTensor>> shards = new ArrayList<>();
    List<OutputTensor> open = new ArrayList<>();
    long openBytes = 0;
    for (OutputTensor t : tensors) {
      long size = t.byteLength();
      if (size > maxShardBytes) {
        shards.add(List.of(t));
        continue;
      }
      if (openBytes + size > maxShardBytes) {
        shards.add(open);
        open = new ArrayList<>();
        openBytes = 0;
      }
      open.add(t);
      openBytes += size;
    }
    if (!open.isEmpty()) {
      shards.add(open);
    }
    String stem = component.fileStem();
    List<PlannedShard> out = new ArrayList<>();
    for (int i = 0; i < shards.size(); i++) {
      String name = shards.size() == 1
          ? stem + ".safetensors"
          : String.format("%s-%05d-of-%05d.safetensors", stem, i + 1, shards.size());
      List<OutputTensor> shard = shards.get(i);
      out.add(new PlannedShard(component, name, shard));
    }
    return out;
  }

  /** The {@code .safetensors.index.json} of a component's shards: each tensor's file, and the tensors' total bytes. */
  public static ShardIndex index(List<PlannedShard> shards) {
    Map<String, String> weightMap = new LinkedHashMap<>();
    long total = 0;
    for (PlannedShard s : shards) {
      for (OutputTensor t : s.tensors()) {
        weightMap.put(t.name(), s.fileName());
        total += t.byteLength();
      }
    }
    return new ShardIndex(total, weightMap);
  }
}
