package org.sat2diffusers.transforms.convert;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.torch.CheckpointIndex;
import org.sat2diffusers.transforms.adapter.AdapterExport;
import org.sat2diffusers.transforms.adapter.LoraMode;
import org.sat2diffusers.transforms.records.SourcePart;
import org.sat2diffusers.transforms.records.LoraGroup;
import org.sat2diffusers.transforms.model.Detection;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.TensorMapping;
import org.sat2diffusers.transforms.shard.PlannedShard;
import org.sat2diffusers.transforms.records.Disposition;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * {@code conversion_report.json}: the source files, what became of every source key and by which
 * rule, LoRA groups, dtype changes, the model detected and why, and each written file with its size
 * and the digest of its header and of each tensor. Planned first; the written files are added when
 * the shards exist.
 */
public final class ConversionReport {
  /**
   * A written weight file, for the report.
   *
   * @param digest the checksum's name, {@code crc32c} or {@code sha256}: the report's keys are
   *     {@code header_<digest>} and {@code tensor_<digest>}
   * @param headerDigest of the file's header bytes; with the tensors' digests they cover every byte
   * @param nonFinite with --check-finite: each tensor holding NaN or infinity, as {@code "nan,inf"}
   * @param loraBlas the BLAS that multiplied the file's LoRA products, or "" when it has none
   */
  public record WrittenFile(
      String path, long bytes, String digest, String headerDigest, Map<String, String> tensorDigests,
      Map<String, String> nonFinite, String loraBlas) {}

  private ConversionReport() {}

  /** The planned report as a value (sections may be added to it); {@link #json} serializes it. */
  static Map<String, Object> planned(
      String source,
      List<SourcePart> parts,
      ConversionSettings settings,
      double loraAlpha,
      Detection detection,
      List<String> warnings,
      TensorMapping mapping,
      List<PlannedShard> shards,
      List<String> fromBase) {
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("source", source);
    List<Object> sourceFiles = new ArrayList<>();
    for (SourcePart part : parts) {
      if (part.isTorchFile()) {
        CheckpointIndex f = part.torchFile();
        sourceFiles.add(map("path", f.path(), "wrapper", f.wrapperKey() == null ? "" : f.wrapperKey(),
            "tensors", f.tensors().size()));
      } else {
        sourceFiles.add(map("path", part.path(), "assembled_from", part.files(), "key_names",
            part.names().name().toLowerCase(), "tensors", part.tensorCount()));
      }
    }
    report.put("source_files", sourceFiles);
    report.put("model", map("family", detection.family().cliName(), "reason", detection.reason()));
    report.put("options", map(
        "lora_alpha", loraAlpha,
        "dtype", settings.dtype() == null ? "keep" : settings.dtype().name(),
        "vae_dtype", settings.vaeDtype() == null ? "keep" : settings.vaeDtype().name(),
        "max_shard_bytes", settings.maxShardBytes() > 0 ? settings.maxShardBytes() : "default",
        "model", settings.model(),
        "unknown_keys", settings.unknownKeys().name().toLowerCase(),
        "lora_mode", settings.loraMode().cliName(),
        "lora_fold_scale", settings.loraFoldScale()));
    if (settings.basePipeline() != null) {
      report.put("base_pipeline", map("path", settings.basePipeline().dir(), "link", settings.basePipeline().link(),
          "components", fromBase));
    }
    report.put("warnings", warnings);
    report.put("components", components(mapping, shards));
    report.put("lora_groups", loraGroups(mapping.loraGroups()));
    report.put("dtype_changes", dtypeChanges(mapping));
    report.put("source_keys", dispositions(mapping.dispositions()));
    return report;
  }

  /** The planned report, stamped with the time of planning; it stays a value until {@link #finished}. */
  static Map<String, Object> stamped(Map<String, Object> planned) {
    Map<String, Object> report = new LinkedHashMap<>(planned);
    report.put("planned_at", Instant.now().toString());
    return Collections.unmodifiableMap(report);
  }

  /**
   * The adapter file and its strength: PEFT applies lora_alpha / r (SAT's alpha / r, or 1 with the
   * scale folded into B) on its own, so a user must not scale by alpha / r again.
   */
  static Map<String, Object> adapter(AdapterExport.Result adapter, ConversionSettings settings) {
    boolean folded = settings.loraFoldScale();
    double scale = adapter.satScale();
    String file = AdapterExport.PREFIX + "/" + AdapterExport.FILE;
    String note = (folded
        ? "lora_B already holds SAT's scale alpha / r = " + scale + " (lora_alpha = r, so loaders apply 1)"
        : "the file's lora_adapter_metadata gives lora_alpha / r = " + scale + " (Diffusers 0.34+ applies it;"
            + " older loaders apply 1: use --lora-fold-scale for them)")
        + ". Load it at adapter weight 1.0 and do NOT apply the scale " + scale + " again"
        + (settings.loraMode() == LoraMode.BOTH
            ? ". The transformer here already has the LoRA merged: load the adapter onto the base model only."
            : ".");
    return map(
        "file", file,
        "mode", settings.loraMode().cliName(),
        "tensors", adapter.tensors().size(),
        "rank", adapter.config().r(),
        "sat_alpha", adapter.satAlpha(),
        "peft_lora_alpha", adapter.config().loraAlpha(),
        "scale_folded_into_b", folded,
        "scale_already_applied", scale,
        "do_not_apply_again", scale,
        "note", note);
  }

  /**
   * The whole report as written beside the output, serialized once: the planned report plus the files
   * as written and when, and {@code config_files}: every small file the conversion wrote (configs,
   * indexes, scheduler config, model_index.json) with its size and sha256, in path order, so
   * {@code verify} can tell an edited config from the one converted. The provenance gains
   * {@code lora_merge_blas}, the BLAS that multiplied LoRA products (when any were merged).
   *
   * @param planned the plan's report ({@link CheckpointPlan#report}); not changed
   * @param finiteChecked whether the written tensors were checked for NaN and infinity (--check-finite):
   *     then each file lists the tensors holding any, with their counts
   * @param smallFiles relative path to the text written there (UTF-8)
   */
  public static String finished(Map<String, Object> planned, List<WrittenFile> written, boolean finiteChecked,
      Map<String, String> smallFiles) {
    Map<String, Object> report = new LinkedHashMap<>(planned);
    List<Object> files = new ArrayList<>();
    for (WrittenFile w : written) {
      Map<String, Object> file = map("path", w.path(), "bytes", w.bytes(), "header_" + w.digest(), w.headerDigest(),
          "tensor_" + w.digest(), w.tensorDigests());
      if (finiteChecked) {
        Map<String, Object> counts = new LinkedHashMap<>();
        w.nonFinite().forEach((tensor, nanInf) -> {
          String[] n = nanInf.split(",");
          counts.put(tensor, map("nan", Long.parseLong(n[0]), "inf", Long.parseLong(n[1])));
        });
        file.put("non_finite", counts);
      }
      files.add(file);
    }
    List<String> blas = written.stream().map(WrittenFile::loraBlas).filter(b -> !b.isEmpty()).distinct().sorted().toList();
    if (!blas.isEmpty()) {
      @SuppressWarnings("unchecked")
      Map<String, Object> provenance = new LinkedHashMap<>((Map<String, Object>) report.getOrDefault("provenance", Map.of()));
      provenance.put("lora_merge_blas", String.join("; ", blas));
      report.put("provenance", provenance);
    }
    report.put("finite_check", finiteChecked);
    report.put("written_files", files);
    report.put("finished_at", Instant.now().toString());
    List<Object> configs = new ArrayList<>();
    for (Map.Entry<String, String> f : new TreeMap<>(smallFiles).entrySet()) {
      byte[] bytes = f.getValue().getBytes(StandardCharsets.UTF_8);
      configs.add(map("path", f.getKey(), "bytes", (long) bytes.length, "sha256", Digest.SHA256.of(bytes)));
    }
    report.put("config_files", configs);
    return PythonJson.dumps(report, false) + "\n";
  }

  private static Map<String, Object> components(TensorMapping mapping, List<PlannedShard> shards) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Component c : mapping.components()) {
      List<OutputTensor> tensors = mapping.outputs(c);
      List<String> fileNames = shards.stream().filter(s -> s.component() == c).map(PlannedShard::fileName).toList();
      out.put(c.folder(), map(
          "tensors", tensors.size(),
          "bytes", tensors.stream().mapToLong(OutputTensor::byteLength).sum(),
          "files", fileNames));
    }
    return out;
  }

  private static List<Object> loraGroups(List<LoraGroup> groups) {
    List<Object> out = new ArrayList<>();
    for (LoraGroup g : groups) {
      out.add(map("module", g.module(), "rank", g.rank(), "alpha", g.alpha(), "scale", (double) g.scale(),
          "parts", g.parts()));
    }
    return out;
  }

  private static List<Object> dtypeChanges(TensorMapping mapping) {
    List<Object> out = new ArrayList<>();
    for (Component c : mapping.components()) {
      for (OutputTensor t : mapping.outputs(c)) {
        if (t.dtype() != t.sourceDtype()) {
          out.add(map("tensor", c.folder() + "/" + t.name(), "from", t.sourceDtype().name(), "to", t.dtype().name()));
        }
      }
    }
    return out;
  }

  private static List<Object> dispositions(List<Disposition> dispositions) {
    List<Object> out = new ArrayList<>();
    for (Disposition d : dispositions) {
      out.add(map("key", d.sourceKey(), "fate", d.fate().name().toLowerCase(),
          "component", d.component() == null ? null : d.component().folder(), "outputs", d.outputs(), "rule", d.rule()));
    }
    return out;
  }

  /** An insertion-ordered map from alternating keys and values (values may be null). */
  private static Map<String, Object> map(Object... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }
}
