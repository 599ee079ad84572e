package org.sat2diffusers.pipeline.jobs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.transforms.config.BasePipeline;

/** Reads a {@code --base-pipeline} folder once, in the driver: its model_index.json and the component folders it holds. */
public final class BasePipelines {
  private static final String MODEL_INDEX = "model_index.json";

  private BasePipelines() {}

  /** @throws IOException when {@code dir} has no model_index.json holding a JSON object, or cannot be read */
  public static BasePipeline read(String dir, boolean link) throws IOException {
    String base = dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir;
    String indexFile = base + "/" + MODEL_INDEX;
    if (!StorageFiles.exists(indexFile)) {
      throw new IOException("--base-pipeline " + dir + " is not a Diffusers pipeline folder: it has no "
          + MODEL_INDEX);
    }
    String json = StorageFiles.readString(indexFile, 1 << 20);
    Map<?, ?> index;
    try {
      index = PythonJson.parse(json) instanceof Map<?, ?> m ? m : null;
    } catch (IOException e) {
      index = null;
    }
    if (index == null) {
      throw new IOException("--base-pipeline " + dir + ": " + MODEL_INDEX + " is not a JSON object");
    }
    List<String> folders = new ArrayList<>();
    for (Map.Entry<?, ?> e : index.entrySet()) {
      String name = String.valueOf(e.getKey());
      boolean named = e.getValue() instanceof List<?> l && l.size() == 2 && l.get(1) != null;
      if (!name.startsWith("_") && named && !StorageFiles.list(base + "/" + name + "/*").isEmpty()) {
        folders.add(name);
      }
    }
    return new BasePipeline(base, link, json, folders);
  }
}
