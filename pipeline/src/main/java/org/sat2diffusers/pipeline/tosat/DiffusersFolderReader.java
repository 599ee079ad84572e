package org.sat2diffusers.pipeline.tosat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.safetensors.ShardIndex;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.transforms.adapter.AdapterExport;
import org.sat2diffusers.transforms.adapter.PeftLoraConfig;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.DiffusersTensor;
import org.sat2diffusers.transforms.reverse.DiffusersModel;

/**
 * Reads a Diffusers pipeline folder for the way back: per component folder present, the weight files
 * (the index's shards, else the single file, else shards without an index) with every tensor's byte
 * range from their validated headers, and the config; the scheduler config; the transformer's LoRA
 * adapter file. Headers only: no tensor byte is read. The inputs opened stay open for the writer and
 * are the caller's to close.
 */
public final class DiffusersFolderReader {
  private static final int MAX_CONFIG_BYTES = 1 << 20;
  private static final int MAX_INDEX_BYTES = 64 << 20;
  private static final String ADAPTER_CONFIG = "adapter_config.json";

  private final Map<String, RandomAccessInput> opened = new LinkedHashMap<>();

  /** The inputs opened so far, by path: the checkpoint writer reads the tensors' ranges through them. */
  public Map<String, RandomAccessInput> inputs() {
    return opened;
  }

  public DiffusersModel read(String dir) throws IOException {
    Map<Component, List<DiffusersTensor>> tensors = new EnumMap<>(Component.class);
    Map<Component, Map<String, Object>> configs = new EnumMap<>(Component.class);
    for (Component c : Component.values()) {
      String folder = dir + "/" + c.folder();
      List<String> files = weightFiles(folder, c);
      if (!files.isEmpty()) {
        tensors.put(c, read(c, files));
      }
      if (StorageFiles.exists(folder + "/config.json")) {
        configs.put(c, json(folder + "/config.json"));
      }
    }
    String scheduler = dir + "/scheduler/scheduler_config.json";
    Map<String, Object> schedulerConfig = StorageFiles.exists(scheduler) ? json(scheduler) : Map.of();
    return new DiffusersModel(tensors, configs, schedulerConfig, adapter(dir + "/" + Component.TRANSFORMER.folder()));
  }

  /** The shards the index names, in order; else the single file; else shards found without an index. */
  private static List<String> weightFiles(String folder, Component c) throws IOException {
    String index = folder + "/" + c.fileStem() + ".safetensors.index.json";
    if (StorageFiles.exists(index)) {
      ShardIndex parsed = ShardIndex.parse(index, StorageFiles.readString(index, MAX_INDEX_BYTES)
          .getBytes(StandardCharsets.UTF_8));
      return parsed.shardFiles().stream().map(f -> folder + "/" + f).toList();
    }
    String single = folder + "/" + c.fileStem() + ".safetensors";
    if (StorageFiles.exists(single)) {
      return List.of(single);
    }
    return StorageFiles.list(folder + "/" + c.fileStem() + "-*-of-*.safetensors");
  }

  private List<DiffusersTensor> read(Component c, List<String> files) throws IOException {
    List<DiffusersTensor> out = new ArrayList<>();
    Map<String, String> fileOf = new HashMap<>();
    for (String file : files) {
      SafetensorsFile st = open(file);
      for (SafetensorsEntry e : st.entries()) {
        String earlier = fileOf.put(e.name(), file);
        if (earlier != null) {
          throw new IllegalArgumentException(c.folder() + ": tensor '" + e.name() + "' is in both " + earlier + " and "
              + file);
        }
        out.add(new DiffusersTensor(c, e.name(), e.dtype(), e.shape(), e.range(file)));
      }
    }
    return out;
  }

  private DiffusersModel.Adapter adapter(String transformerDir) throws IOException {
    String file = transformerDir + "/" + AdapterExport.FILE;
    if (!StorageFiles.exists(file)) {
      return null;
    }
    SafetensorsFile st = open(file);
    List<DiffusersTensor> tensors = new ArrayList<>();
    for (SafetensorsEntry e : st.entries()) {
      tensors.add(new DiffusersTensor(Component.TRANSFORMER, e.name(), e.dtype(), e.shape(), e.range(file)));
    }
    String metadata = st.metadata().get(PeftLoraConfig.METADATA_KEY);
    String config = transformerDir + "/" + ADAPTER_CONFIG;
    PeftLoraConfig peft = metadata != null
        ? PeftLoraConfig.fromAdapterMetadata(metadata, AdapterExport.PREFIX, file)
        : StorageFiles.exists(config) ? PeftLoraConfig.fromAdapterConfig(StorageFiles.readString(config, MAX_CONFIG_BYTES), config)
        : null;
    return new DiffusersModel.Adapter(file, tensors, peft);
  }

  private SafetensorsFile open(String file) throws IOException {
    RandomAccessInput in = opened.get(file);
    if (in == null) {
      in = RandomAccessInputs.open(file);
      opened.put(file, in);
    }
    return SafetensorsFile.open(in);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> json(String file) throws IOException {
    Object parsed = PythonJson.parse(StorageFiles.readString(file, MAX_CONFIG_BYTES));
    if (!(parsed instanceof Map)) {
      throw new IllegalArgumentException(file + ": not a JSON object");
    }
    return (Map<String, Object>) parsed;
  }
}
