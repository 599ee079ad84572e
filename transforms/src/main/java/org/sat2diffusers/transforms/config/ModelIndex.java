package org.sat2diffusers.transforms.config;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.records.Component;

/**
 * The pipeline folder's {@code model_index.json}. Components the folder has name their library
 * and class; the others (the tokenizer, never converted, and any component the checkpoint lacks)
 * are {@code [null, null]}, as Diffusers writes for a pipeline saved without them: loading then
 * gives None for them instead of failing on a missing folder, and the caller passes them in
 * (e.g. {@code tokenizer=T5Tokenizer.from_pretrained(...)}).
 */
public final class ModelIndex {
  public static final String SCHEDULER = "scheduler";

  private ModelIndex() {}

  /** {@code present}: the components written next to it; the scheduler config is always written. */
  public static Map<String, Object> build(ModelFamily family, Set<Component> present) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put(SCHEDULER, schedulerEntry());
    f.put("tokenizer", absent());
    for (Component c : Component.values()) {
      f.put(c.folder(), present.contains(c) ? entry(c) : absent());
    }
    return SavedConfig.diffusers(pipelineClass(family), f);
  }

  /**
   * The index of a folder completed from a base pipeline: the base's entries for the folders taken
   * from it, {@code written} for the folders the conversion writes, {@code [null, null]} for every
   * other component the base names. Keeps the base's {@code _diffusers_version}.
   *
   * @param base the base's model_index.json
   * @param written library and class of each folder the conversion writes
   * @param fromBase the folders taken from the base
   */
  public static Map<String, Object> completed(
      ModelFamily family, Map<String, Object> base, Map<String, List<String>> written, Set<String> fromBase) {
    Map<String, Object> f = new LinkedHashMap<>();
    base.forEach((name, value) -> {
      if (!name.startsWith("_")) {
        f.put(name, fromBase.contains(name) ? value : absent());
      }
    });
    f.putAll(written);
    Map<String, Object> index = SavedConfig.diffusers(pipelineClass(family), f);
    if (base.get("_diffusers_version") instanceof String version) {
      index.put("_diffusers_version", version);
    }
    return index;
  }

  /** {@code CogVideoXPipeline} or {@code CogVideoXImageToVideoPipeline}. */
  public static String pipelineClass(ModelFamily family) {
    return family.imageToVideo() ? "CogVideoXImageToVideoPipeline" : "CogVideoXPipeline";
  }

  /** Library and class of a converted component. */
  public static List<String> entry(Component c) {
    return switch (c) {
      case TRANSFORMER -> List.of("diffusers", TransformerConfigInference.CLASS_NAME);
      case VAE -> List.of("diffusers", VaeConfigInference.CLASS_NAME);
      case TEXT_ENCODER -> List.of("transformers", "T5EncoderModel");
    };
  }

  public static List<String> schedulerEntry() {
    return List.of("diffusers", SchedulerConfig.CLASS_NAME);
  }

  private static List<String> absent() {
    return Arrays.asList(null, null);
  }
}
