package org.sat2diffusers.transforms.convert;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sat2diffusers.io.storage.FileFingerprint;
import org.sat2diffusers.transforms.records.LoraGroup;
import org.sat2diffusers.transforms.records.Component;

/**
 * Where a converted folder comes from, recorded in every safetensors header it writes (metadata key
 * {@value #METADATA_KEY}, compact JSON) and in the report: the source and its files' fingerprints,
 * the iteration, the converter version, the options and the LoRA found. Nothing in it depends on when
 * or where the conversion ran, so every runner writes the same bytes.
 *
 * @param converterVersion the converter's version
 * @param source the path the user named
 * @param iteration the checkpoint's iteration
 * @param files the source files' fingerprints (size, modification time, store checksum)
 */
public record Provenance(String converterVersion, String source, String iteration, List<FileFingerprint> files)
    implements Serializable {
  public static final String METADATA_KEY = "sat2diffusers";
  private static final JsonMapper COMPACT = JsonMapper.builder().build();

  public Provenance {
    files = List.copyOf(files);
  }

  /** What the report and the headers record, in a fixed order. */
  Map<String, Object> describe(ConversionSettings settings, double loraAlpha, List<LoraGroup> loraGroups) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("converter_version", converterVersion);
    m.put("source", source);
    m.put("iteration", iteration);
    List<Object> sourceFiles = new ArrayList<>();
    for (FileFingerprint f : files) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("path", f.path());
      s.put("size", f.sizeBytes());
      s.put("last_modified_ms", f.lastModifiedMillis());
      if (f.checksum() != null) {
        s.put("checksum", f.checksum());
      }
      sourceFiles.add(s);
    }
    m.put("source_files", sourceFiles);
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("lora_alpha", loraAlpha);
    options.put("lora_mode", settings.loraMode().cliName());
    options.put("lora_fold_scale", settings.loraFoldScale());
    options.put("dtype", settings.dtype() == null ? "keep" : settings.dtype().name());
    options.put("vae_dtype", settings.vaeDtype() == null ? "keep" : settings.vaeDtype().name());
    options.put("max_shard_bytes", settings.maxShardBytes());
    options.put("model", settings.model());
    options.put("components", settings.components().stream().map(Component::folder).toList());
    m.put("options", options);
    if (!loraGroups.isEmpty()) {
      Map<Integer, Integer> modulesPerRank = new TreeMap<>();
      loraGroups.forEach(g -> modulesPerRank.merge(g.rank(), 1, Integer::sum));
      Map<String, Object> lora = new LinkedHashMap<>();
      lora.put("ranks", modulesPerRank.keySet().stream().toList());
      lora.put("alpha", loraAlpha);
      lora.put("modules", loraGroups.size());
      m.put("lora", lora);
    }
    return m;
  }

  /** The header metadata: {@value #METADATA_KEY} holding {@link #describe} as compact JSON. */
  Map<String, String> metadata(ConversionSettings settings, double loraAlpha, List<LoraGroup> loraGroups) {
    try {
      return Map.of(METADATA_KEY, COMPACT.writeValueAsString(describe(settings, loraAlpha, loraGroups)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("provenance is not writable as JSON", e);
    }
  }
}
