package org.sat2diffusers.transforms.adapter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.io.dtype.DtypeConversions;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.transforms.shard.PlannedShard;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.LoraDelta;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * Plans merging a Diffusers/PEFT LoRA file into a Diffusers model folder: every weight file of the
 * model is written again under its name with the same tensors, each {@code M.weight} that has
 * {@code M.lora_A.weight} ([r, in]) and {@code M.lora_B.weight} ([out, r]) carrying the update
 * {@code B @ A * scale} (PEFT's lora_alpha / r), merged in fp32 and rounded once, like a SAT merge.
 * LoRA keys may carry the component prefix ({@code transformer.}) or PEFT's {@code base_model.model.};
 * keys of other components are left out (listed). Reads headers only.
 */
public final class DiffusersLoraMerge {
  private static final Pattern LORA_KEY = Pattern.compile("^(.+)\\.lora_([AB])\\.weight$");
  private static final String PEFT_PREFIX = "base_model.model.";
  private static final List<String> COMPONENT_PREFIXES = List.of("transformer.", "text_encoder.", "unet.", "vae.");

  /** How strong each module's update is. */
  public sealed interface Strength {
    /** The scale of {@code module}, whose A and B have rank {@code shapeRank}. */
    double scale(String module, int shapeRank, String loraFile);
  }

  /** PEFT's config: its rank must match the shapes; scale lora_alpha / r (rank and alpha patterns honoured). */
  public record FromConfig(PeftLoraConfig config) implements Strength {
    @Override
    public double scale(String module, int shapeRank, String loraFile) {
      int rank = config.rank(module);
      if (rank != shapeRank) {
        throw new IllegalArgumentException(loraFile + ": LoRA module '" + module + "' has rank " + shapeRank
            + " in its shapes, but its config says r = " + rank);
      }
      return config.scale(module, rank);
    }
  }

  /** One alpha for every module (the command line's): scale alpha / r with r from the shapes. */
  public record FromAlpha(double alpha) implements Strength {
    @Override
    public double scale(String module, int shapeRank, String loraFile) {
      return alpha / shapeRank;
    }
  }

  /**
   * @param shards the model's weight files to write, in the input's order, each with its tensors in file order
   * @param scales per merged module, the scale applied
   * @param ignoredKeys LoRA keys of other components, not merged
   */
  public record Plan(List<PlannedShard> shards, Map<String, Double> scales, List<String> ignoredKeys) {
    public Plan {
      shards = List.copyOf(shards);
      scales = Map.copyOf(scales);
      ignoredKeys = List.copyOf(ignoredKeys);
    }
  }

  private DiffusersLoraMerge() {}

  /**
   * @param component the model's component (its name is the LoRA key prefix)
   * @param modelFiles the model's weight files (one, or the shards its index names, in order)
   * @param lora the LoRA file
   */
  public static Plan plan(Component component, List<SafetensorsFile> modelFiles, SafetensorsFile lora, Strength strength) {
    Map<String, SafetensorsEntry[]> modules = new TreeMap<>();
    List<String> ignored = new ArrayList<>();
    for (SafetensorsEntry e : lora.entries()) {
      String key = e.name().startsWith(PEFT_PREFIX) ? e.name().substring(PEFT_PREFIX.length()) : e.name();
      if (key.startsWith(component.folder() + ".")) {
        key = key.substring(component.folder().length() + 1);
      } else if (COMPONENT_PREFIXES.stream().anyMatch(key::startsWith)) {
        ignored.add(e.name());
        continue;
      }
      Matcher m = LORA_KEY.matcher(key);
      if (!m.matches()) {
        throw new IllegalArgumentException(lora.path() + ": key '" + e.name() + "' is not a lora_A/lora_B weight"
            + " (LoRA biases, DoRA magnitudes and kohya-style keys cannot be merged here)");
      }
      modules.computeIfAbsent(m.group(1), k -> new SafetensorsEntry[2])[m.group(2).equals("A") ? 0 : 1] = e;
    }
    if (modules.isEmpty()) {
      throw new IllegalArgumentException(lora.path() + ": no lora_A/lora_B weights for the " + component.folder()
          + (ignored.isEmpty() ? "" : " (only keys of other components, e.g. '" + ignored.get(0) + "')"));
    }
    Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
    for (SafetensorsFile f : modelFiles) {
      for (SafetensorsEntry e : f.entries()) {
        SafetensorsFile clash = fileOf.putIfAbsent(e.name(), f);
        if (clash != null) {
          throw new IllegalArgumentException("tensor '" + e.name() + "' is in both " + clash.path() + " and " + f.path());
        }
      }
    }
    Map<String, LoraDelta> deltas = new LinkedHashMap<>();
    Map<String, Double> scales = new TreeMap<>();
    modules.forEach((module, ab) -> {
      LoraDelta delta = delta(module, ab, fileOf, lora, strength);
      deltas.put(module + ".weight", delta);
      scales.put(module, delta.alpha() / delta.rank());
    });
    List<PlannedShard> shards = new ArrayList<>();
    for (SafetensorsFile f : modelFiles) {
      List<OutputTensor> tensors = new ArrayList<>();
      for (SafetensorsEntry e : f.entries()) {
        tensors.add(new OutputTensor(component, e.name(), e.dtype(), e.shape(), e.dtype(), List.of(e.range(f.path())),
            deltas.get(e.name()), List.of(e.name())));
      }
      shards.add(new PlannedShard(component, fileName(f.path()), tensors));
    }
    return new Plan(shards, scales, ignored);
  }

  private static LoraDelta delta(
      String module, SafetensorsEntry[] ab, Map<String, SafetensorsFile> fileOf, SafetensorsFile lora, Strength strength) {
    String where = lora.path() + ": LoRA module '" + module + "'";
    if (ab[0] == null || ab[1] == null) {
      throw new IllegalArgumentException(where + " has only its lora_" + (ab[0] == null ? "B" : "A") + " weight");
    }
    SafetensorsFile modelFile = fileOf.get(module + ".weight");
    if (modelFile == null) {
      throw new IllegalArgumentException(where + " targets '" + module + ".weight', which the model does not have");
    }
    SafetensorsEntry w = modelFile.entries().stream().filter(e -> e.name().equals(module + ".weight")).findFirst()
        .orElseThrow();
    SafetensorsEntry a = ab[0];
    SafetensorsEntry b = ab[1];
    boolean shapesFit = w.shape().size() == 2 && a.shape().size() == 2 && b.shape().size() == 2
        && a.shape().get(1).equals(w.shape().get(1)) && b.shape().get(0).equals(w.shape().get(0))
        && a.shape().get(0).equals(b.shape().get(1)) && a.shape().get(0) > 0;
    if (!shapesFit) {
      throw new IllegalArgumentException(where + ": A " + a.shape() + " and B " + b.shape() + " do not fit weight "
          + w.shape() + " of " + modelFile.path() + " (A is [r, in], B is [out, r], the weight [out, in])");
    }
    if (a.dtype() != b.dtype() || !DtypeConversions.isCastable(a.dtype()) || !DtypeConversions.isCastable(w.dtype())) {
      throw new IllegalArgumentException(where + ": A is " + a.dtype() + ", B " + b.dtype() + ", the weight "
          + w.dtype() + "; a merge needs A and B of one dtype, all of F32, F16 or BF16");
    }
    int rank = Math.toIntExact(a.shape().get(0));
    double scale = strength.scale(module, rank, lora.path());
    return new LoraDelta(a.dtype(), List.of(List.of(a.range(lora.path()))), List.of(List.of(b.range(lora.path()))), rank,
        w.shape().get(1), w.shape().get(0), scale * rank, (float) scale);
  }

  private static String fileName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }
}
