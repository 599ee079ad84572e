package org.sat2diffusers.transforms.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** How Diffusers and transformers lay out the config files they save. */
public final class SavedConfig {
  /**
   * The Diffusers version written as {@code _diffusers_version}: the first release whose
   * CogVideoX classes have every field written here (CogVideoX 1.5: patch_size_t, ofs_embed_dim,
   * patch_bias, invert_scale_latents).
   */
  public static final String DIFFUSERS_VERSION = "0.32.0";
  /** The transformers version written as {@code transformers_version} in the T5 config. */
  public static final String TRANSFORMERS_VERSION = "4.44.2";

  private SavedConfig() {}

  /** A Diffusers config: {@code _class_name}, {@code _diffusers_version} and the fields, keys sorted. */
  static Map<String, Object> diffusers(String className, Map<String, Object> fields) {
    Map<String, Object> all = new LinkedHashMap<>(fields);
    all.put("_class_name", className);
    all.put("_diffusers_version", DIFFUSERS_VERSION);
    return sorted(all);
  }

  /**
   * Keys in the order {@code json.dumps(sort_keys=True)} gives (code point order; the keys are
   * ASCII, where it equals String order), values as given (nulls kept).
   */
  static Map<String, Object> sorted(Map<String, Object> fields) {
    return new LinkedHashMap<>(new TreeMap<>(fields));
  }
}
