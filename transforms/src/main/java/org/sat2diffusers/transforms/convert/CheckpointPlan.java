package org.sat2diffusers.transforms.convert;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.transforms.model.Detection;
import org.sat2diffusers.transforms.parallel.ReplicatedTensor;
import org.sat2diffusers.transforms.records.TensorMapping;
import org.sat2diffusers.transforms.shard.PlannedShard;

/**
 * Everything decided about one checkpoint before a byte of tensor data is read.
 *
 * @param detection the model family and why
 * @param mapping what became of every source key
 * @param shards the weight files to write, per component in order
 * @param smallFiles relative path to content: configs, indexes, scheduler config, model_index.json
 * @param componentFolders the component folders written (their old contents get replaced)
 * @param shardMetadata string metadata for every safetensors header
 * @param report the conversion report as a value (JSON-shaped maps and lists), without what only
 *     writing can tell (sizes, checksums); serialized once, when the written files are added
 * @param baseComponents component folders taken whole from the base pipeline ({@code --base-pipeline})
 * @param replicaChecks the checks that need tensor bytes, which planning does not read, and the
 *     conversion still makes before writing: the tensors every model-parallel rank holds in full,
 *     whose copies must be equal (empty for one rank)
 */
public record CheckpointPlan(
    Detection detection,
    TensorMapping mapping,
    List<PlannedShard> shards,
    Map<String, String> smallFiles,
    List<String> componentFolders,
    Map<String, String> shardMetadata,
    Map<String, Object> report,
    List<String> baseComponents,
    List<ReplicatedTensor> replicaChecks) {
  public CheckpointPlan {
    shards = List.copyOf(shards);
    smallFiles = Map.copyOf(smallFiles);
    componentFolders = List.copyOf(componentFolders);
    shardMetadata = Map.copyOf(shardMetadata);
    baseComponents = List.copyOf(baseComponents);
    replicaChecks = List.copyOf(replicaChecks);
  }

  /** The header metadata of {@code shard}: the checkpoint's, plus the file's own (the adapter's config). */
  public Map<String, String> metadata(PlannedShard shard) {
    Map<String, String> all = new LinkedHashMap<>(shardMetadata);
    all.putAll(shard.metadata());
    return all;
  }
}
