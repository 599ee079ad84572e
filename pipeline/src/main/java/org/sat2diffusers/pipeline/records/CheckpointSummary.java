package org.sat2diffusers.pipeline.records;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * What finalizing a checkpoint needs from its plan: the small files to write (configs, indexes,
 * model_index.json; relative path to text), the shard files to expect, and the report so far.
 *
 * @param checkpointId the job id
 * @param smallFiles relative path inside the output folder to file content
 * @param shardPaths relative paths of every planned shard
 * @param components component folders this conversion writes (their old contents are replaced)
 * @param report the conversion report without write results, as a value (JSON-shaped maps and lists)
 * @param baseComponents component folders to take from the job's base pipeline (also in {@code components})
 */
public record CheckpointSummary(
    String checkpointId,
    Map<String, String> smallFiles,
    List<String> shardPaths,
    List<String> components,
    Map<String, Object> report,
    List<String> baseComponents)
    implements Serializable {
  public CheckpointSummary {
    smallFiles = Map.copyOf(smallFiles);
    shardPaths = List.copyOf(shardPaths);
    components = List.copyOf(components);
    baseComponents = List.copyOf(baseComponents);
  }
}
