package org.sat2diffusers.pipeline.steps;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.io.storage.FileFingerprint;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import org.sat2diffusers.transforms.convert.Weights;
import org.sat2diffusers.transforms.records.Component;

/**
 * The {@code _SUCCESS} file written last into a converted folder: its presence means the folder is
 * complete, and its content says what it was made from (source fingerprints, the run's
 * model_config.json, converter version, options, the base pipeline's files), so a later run can tell
 * whether it is still up to date.
 */
public final class CommitMarker {
  public static final String FILE = "_SUCCESS";

  private CommitMarker() {}

  static String render(CheckpointJob job) {
    Map<String, Object> m = identity(job);
    m.put("source", job.source());
    m.put("iteration", job.iteration());
    m.put("committed_at", Instant.now().toString());
    return PythonJson.dumps(m, true) + "\n";
  }

  /** Whether {@code markerText} records exactly this job's sources, converter version and options. */
  @SuppressWarnings("unchecked")
  public static boolean isCurrent(String markerText, CheckpointJob job) {
    Map<String, Object> recorded;
    try {
      recorded = (Map<String, Object>) PythonJson.parse(markerText);
    } catch (Exception e) {
      return false; // unreadable: redo
    }
    Map<String, Object> wanted = (Map<String, Object>) uncheckedParse(PythonJson.dumps(identity(job), true));
    for (Map.Entry<String, Object> e : wanted.entrySet()) {
      if (!e.getValue().equals(recorded.get(e.getKey()))) {
        return false;
      }
    }
    return true;
  }

  /**
   * Everything the folder's bytes and report depend on: the converter, the source files (with a
   * {@code --vae} file), the run's model_config.json, the options (the SAT config and the base pipeline
   * by content).
   */
  private static Map<String, Object> identity(CheckpointJob job) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("converter_version", Version.current());
    m.put("sources", fingerprints(job.fingerprints()));
    if (job.vae() != null) { // its fingerprint is among the sources; the role is not
      m.put("vae", job.vae());
    }
    m.put("run_model_config_sha256", job.runModelConfig() == null ? "" : sha256(job.runModelConfig()));
    m.put("options", options(job.settings()));
    if (job.settings().basePipeline() != null) {
      m.put("base_pipeline_files", fingerprints(job.baseFingerprints()));
    }
    return m;
  }

  private static List<Object> fingerprints(List<FileFingerprint> fingerprints) {
    List<Object> out = new ArrayList<>();
    for (FileFingerprint f : fingerprints) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("path", f.path());
      s.put("size", f.sizeBytes());
      s.put("last_modified_ms", f.lastModifiedMillis());
      s.put("checksum", f.checksum() == null ? "" : f.checksum());
      out.add(s);
    }
    return out;
  }

  private static Map<String, Object> options(ConversionSettings s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("lora_alpha", s.loraAlpha() == null ? "default" : s.loraAlpha());
    m.put("dtype", s.dtype() == null ? "keep" : s.dtype().name());
    m.put("vae_dtype", s.vaeDtype() == null ? "keep" : s.vaeDtype().name());
    m.put("max_shard_bytes", s.maxShardBytes());
    m.put("model", s.model());
    m.put("sat_config_sha256", s.satConfigYaml() == null ? "" : sha256(s.satConfigYaml()));
    m.put("components", s.components().stream().map(Component::folder).toList());
    m.put("unknown_keys", s.unknownKeys().name().toLowerCase());
    if (s.basePipeline() != null) {
      m.put("base_pipeline", s.basePipeline().dir());
      m.put("base_model_index_sha256", sha256(s.basePipeline().modelIndexJson()));
      m.put("link_base", s.basePipeline().link());
    }
    m.put("lora_mode", s.loraMode().cliName());
    m.put("lora_fold_scale", s.loraFoldScale());
    m.put("check_finite", s.checkFinite());
    m.put("fail_on_nonfinite", s.failOnNonfinite());
    m.put("digest", s.digest().label());
    if (s.weights() != Weights.MODULE) { // only when chosen, so markers written before --weights stay current
      m.put("weights", s.weights().cliName());
    }
    return m;
  }

  private static Object uncheckedParse(String json) {
    try {
      return PythonJson.parse(json);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
