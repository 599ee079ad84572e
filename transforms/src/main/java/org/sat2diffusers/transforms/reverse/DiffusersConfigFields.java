package org.sat2diffusers.transforms.reverse;

import java.util.Map;
import java.util.Optional;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.model.SincosPositionTable;

/**
 * What a {@code CogVideoXTransformer3DModel} config.json says that the way back needs: the family
 * (from the position and patch fields) and the geometry of SAT's sincos table (sample sizes, patch
 * size, text length, interpolation scales: the fields Diffusers builds its own table from).
 */
final class DiffusersConfigFields {
  private DiffusersConfigFields() {}

  /** The family the config's position and patch fields describe, or empty when it has none of them. */
  static Optional<ModelFamily> family(Map<String, Object> config) {
    if (!config.containsKey("use_rotary_positional_embeddings")) {
      return Optional.empty();
    }
    boolean rotary = Boolean.TRUE.equals(config.get("use_rotary_positional_embeddings"));
    boolean learned = Boolean.TRUE.equals(config.get("use_learned_positional_embeddings"));
    if (config.get("patch_size_t") != null) {
      return Optional.of(config.get("ofs_embed_dim") != null ? ModelFamily.COGVIDEOX1_5_5B_I2V : ModelFamily.COGVIDEOX1_5_5B);
    }
    if (!rotary) {
      return Optional.of(ModelFamily.COGVIDEOX_2B);
    }
    return Optional.of(learned ? ModelFamily.COGVIDEOX_5B_I2V : ModelFamily.COGVIDEOX_5B);
  }

  static String describe(Map<String, Object> config) {
    return "use_rotary_positional_embeddings " + config.get("use_rotary_positional_embeddings")
        + ", use_learned_positional_embeddings " + config.get("use_learned_positional_embeddings")
        + ", patch_size_t " + config.get("patch_size_t") + ", ofs_embed_dim " + config.get("ofs_embed_dim");
  }

  /** SAT's table for this config: height = sample_height / patch_size, frames = (sample_frames - 1) / ratio + 1. */
  static SincosPositionTable.Geometry sincosGeometry(Map<String, Object> config, int hidden) {
    int patch = integer(config, "patch_size");
    int ratio = integer(config, "temporal_compression_ratio");
    double spatial = number(config, "spatial_interpolation_scale");
    return new SincosPositionTable.Geometry(hidden, integer(config, "sample_height") / patch,
        integer(config, "sample_width") / patch, (integer(config, "sample_frames") - 1) / ratio + 1,
        integer(config, "max_text_seq_length"), spatial, spatial, number(config, "temporal_interpolation_scale"));
  }

  static int integer(Map<String, Object> config, String key) {
    Object v = config.get(key);
    if (v instanceof Integer || v instanceof Long) {
      return Math.toIntExact(((Number) v).longValue());
    }
    throw new IllegalArgumentException("transformer/config.json: " + key + " is " + (v == null ? "missing" : "'" + v + "'")
        + ", expected an integer (SAT's sincos table is computed from it)");
  }

  static double number(Map<String, Object> config, String key) {
    Object v = config.get(key);
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    throw new IllegalArgumentException("transformer/config.json: " + key + " is " + (v == null ? "missing" : "'" + v + "'")
        + ", expected a number (SAT's sincos table is computed from it)");
  }

  /** An optional integer field (null when absent or null). */
  static Integer optionalInteger(Map<String, Object> config, String key) {
    return config.get(key) == null ? null : integer(config, key);
  }
}
