package org.sat2diffusers.io.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.sat2diffusers.io.json.PythonJson;

/**
 * The {@code *.safetensors.index.json} of a sharded model:
 * {@code {"metadata": {"total_size": N}, "weight_map": {tensor name: shard file name}}}.
 *
 * @param totalSize sum of the tensors' byte lengths (not of the file sizes)
 * @param weightMap shard file name per tensor name
 */
public record ShardIndex(long totalSize, Map<String, String> weightMap) {
  public ShardIndex {
    weightMap = Collections.unmodifiableMap(new LinkedHashMap<>(weightMap));
  }

  /** The shard file names, sorted and without repeats. */
  public List<String> shardFiles() {
    return List.copyOf(new TreeSet<>(weightMap.values()));
  }

  /** The file as Diffusers writes it: {@code json.dumps(index, indent=2, sort_keys=True) + "\n"}. */
  public byte[] toJsonBytes() {
    Map<String, Object> index = new LinkedHashMap<>();
    index.put("metadata", Map.of("total_size", totalSize));
    index.put("weight_map", weightMap);
    return PythonJson.fileBytes(index, true);
  }

  /**
   * Reads an index file; extra metadata keys (transformers adds {@code total_parameters}) are
   * ignored. IllegalArgumentException naming {@code path} when it is not such a file.
   */
  public static ShardIndex parse(String path, byte[] json) {
    Object root;
    try {
      root = PythonJson.parse(new String(json, StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(path + ": not JSON: " + e.getOriginalMessage(), e);
    }
    if (!(root instanceof Map<?, ?> index) || !(index.get("metadata") instanceof Map<?, ?> metadata)
        || !(index.get("weight_map") instanceof Map<?, ?> weights)) {
      throw new IllegalArgumentException(path + ": expected {\"metadata\": {...}, \"weight_map\": {...}}");
    }
    if (!(metadata.get("total_size") instanceof Number total) || total instanceof Double || total.longValue() < 0) {
      throw new IllegalArgumentException(path + ": metadata.total_size is " + metadata.get("total_size")
          + ", not a non-negative integer");
    }
    Map<String, String> weightMap = new LinkedHashMap<>();
    for (Map.Entry<?, ?> w : weights.entrySet()) {
      if (!(w.getValue() instanceof String file)) {
        throw new IllegalArgumentException(path + ": weight_map entry '" + w.getKey() + "' is " + w.getValue()
            + ", not a file name");
      }
      weightMap.put((String) w.getKey(), file);
    }
    return new ShardIndex(total.longValue(), weightMap);
  }
}
