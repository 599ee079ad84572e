package org.sat2diffusers.transforms.lora;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntToDoubleFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.DtypeConversions;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.transforms.records.ComponentTensor;
import org.sat2diffusers.transforms.records.LoraDelta;
import org.sat2diffusers.transforms.records.LoraGroup;
import org.sat2diffusers.transforms.records.SourceTensor;

/**
 * Folds SAT lora2 modules into plain tensors: {@code M.original.weight} with its {@code M.matrix_A.i}
 * / {@code M.matrix_B.i} becomes {@code M.weight} carrying a {@link LoraDelta}, and
 * {@code M.original.bias} becomes {@code M.bias}. Other tensors pass through unchanged.
 */
public final class LoraGrouper {
  private static final Pattern LORA_KEY =
      Pattern.compile("^(.+)\\.(original\\.weight|original\\.bias|matrix_A\\.(\\d+)|matrix_B\\.(\\d+))$");

  /** PEFT's names: the frozen layer, and each adapter's matrices. */
  private static final Pattern PEFT_KEY =
      Pattern.compile("^(.+)\\.(?:base_layer\\.(weight|bias)|lora_([AB])\\.([^.]+)\\.weight)$");

  /**
   * A PEFT LoRA file's matrices ({@code get_peft_model_state_dict} drops the adapter name), merged
   * into a base model's {@code M.weight} / {@code M.bias} of the same module.
   */
  private static final Pattern PEFT_FILE_KEY = Pattern.compile("^(.+)\\.lora_([AB])\\.weight$");

  /** The tensors with LoRA modules folded (a merged weight sits where its original weight was), and the groups found. */
  public record Result(List<ComponentTensor> tensors, List<LoraGroup> groups) {}

  private LoraGrouper() {}

  /**
   * @param keyed the tensors of one component in order, each with its key inside the component
   * @param alpha the job's lora alpha (SAT's default is 1)
   */
  public static Result group(Map<String, SourceTensor> keyed, double alpha) {
    return group(keyed, rank -> alpha);
  }

  /**
   * Folds PEFT LoRA modules, as a Diffusers-based trainer's LoRA-injected transformer holds them, the
   * same way: {@code M.base_layer.weight} with {@code M.lora_A.<adapter>.weight} ([r, in]) and {@code
   * M.lora_B.<adapter>.weight} ([out, r]) becomes {@code M.weight} carrying {@code B @ A * alpha / r},
   * {@code M.base_layer.bias} becomes {@code M.bias}. One adapter in all. A base model's tensors with a
   * PEFT LoRA file's beside them ({@code M.weight}, {@code M.lora_A.weight}, {@code M.lora_B.weight})
   * fold the same way.
   *
   * @param alpha --lora-alpha, or null for alpha = r (scale 1): PEFT's weight files keep no alpha, and
   *     Diffusers loads such a file at scale 1
   */
  public static Result groupPeft(Map<String, SourceTensor> keyed, Double alpha) {
    Set<String> fileModules = new HashSet<>();
    for (String key : keyed.keySet()) {
      Matcher m = PEFT_FILE_KEY.matcher(key);
      if (m.matches()) {
        fileModules.add(m.group(1));
      }
    }
    Map<String, SourceTensor> asLora2 = new LinkedHashMap<>();
    String adapter = null;
    for (Map.Entry<String, SourceTensor> e : keyed.entrySet()) {
      Matcher m = PEFT_KEY.matcher(e.getKey());
      Matcher file = PEFT_FILE_KEY.matcher(e.getKey());
      String key = e.getKey();
      int dot = key.lastIndexOf('.');
      if (file.matches()) {
        key = file.group(1) + ".matrix_" + file.group(2) + ".0";
      } else if (dot > 0 && fileModules.contains(key.substring(0, dot))
          && (key.endsWith(".weight") || key.endsWith(".bias"))) {
        key = key.substring(0, dot) + ".original" + key.substring(dot);
      } else if (m.matches()) {
        if (m.group(2) != null) {
          key = m.group(1) + ".original." + m.group(2);
        } else {
          if (adapter != null && !adapter.equals(m.group(4))) {
            throw new IllegalArgumentException(e.getValue().file() + ": LoRA adapters '" + adapter + "' and '"
                + m.group(4) + "' (" + e.getKey() + "): merge one adapter at a time");
          }
          adapter = m.group(4);
          key = m.group(1) + ".matrix_" + m.group(3) + ".0";
        }
      }
      asLora2.put(key, e.getValue());
    }
    return group(asLora2, alpha == null ? rank -> rank : rank -> alpha);
  }

  private static Result group(Map<String, SourceTensor> keyed, IntToDoubleFunction alphaOfRank) {
    Map<String, Module> modules = new LinkedHashMap<>();
    for (Map.Entry<String, SourceTensor> e : keyed.entrySet()) {
      Matcher m = LORA_KEY.matcher(e.getKey());
      if (m.matches()) {
        modules.computeIfAbsent(m.group(1), Module::new).add(m, e.getValue());
      }
    }
    List<ComponentTensor> out = new ArrayList<>();
    List<LoraGroup> groups = new ArrayList<>();
    for (Map.Entry<String, SourceTensor> e : keyed.entrySet()) {
      Matcher m = LORA_KEY.matcher(e.getKey());
      if (!m.matches()) {
        out.add(ComponentTensor.of(e.getKey(), e.getValue()));
        continue;
      }
      Module module = modules.get(m.group(1));
      if (m.group(2).equals("original.weight")) {
        ComponentTensor merged = module.merged(alphaOfRank);
        out.add(merged);
        groups.add(new LoraGroup(
            module.fullName, merged.lora().rank(), merged.lora().alpha(), merged.lora().scale(), merged.lora().parts(),
            module.sourceKeys()));
      } else if (m.group(2).equals("original.bias")) {
        module.requireWeight();
        out.add(ComponentTensor.of(module.name + ".bias", e.getValue()));
      } else {
        module.requireWeight();
      }
    }
    return new Result(out, groups);
  }

  /** The keys of one lora2 module, as found. */
  private static final class Module {
    final String name;
    String fullName;
    SourceTensor weight;
    SourceTensor bias;
    final Map<Integer, SourceTensor> a = new TreeMap<>();
    final Map<Integer, SourceTensor> b = new TreeMap<>();

    Module(String name) {
      this.name = name;
    }

    void add(Matcher m, SourceTensor t) {
      String suffix = "." + m.group(2);
      // the module's source name: SAT keys end in the lora2 suffix; PEFT keys, renamed, go by the module's
      fullName = t.key().endsWith(suffix) ? t.key().substring(0, t.key().length() - suffix.length()) : name;
      switch (m.group(2).substring(0, m.group(2).indexOf('.'))) {
        case "original" -> {
          if (m.group(2).endsWith("weight")) {
            weight = t;
          } else {
            bias = t;
          }
        }
        case "matrix_A" -> a.put(Integer.parseInt(m.group(3)), t);
        default -> b.put(Integer.parseInt(m.group(4)), t);
      }
    }

    List<String> sourceKeys() {
      List<String> keys = new ArrayList<>();
      keys.add(weight.key());
      if (bias != null) {
        keys.add(bias.key());
      }
      a.values().forEach(t -> keys.add(t.key()));
      b.values().forEach(t -> keys.add(t.key()));
      return keys;
    }

    void requireWeight() {
      if (weight == null) {
        throw error("has LoRA matrices or an original bias but no original.weight");
      }
    }

    ComponentTensor merged(IntToDoubleFunction alphaOfRank) {
      List<Long> w = weight.tensor().shape();
      if (w.size() != 2) {
        throw error("original.weight has shape " + w + ", expected [out, in]");
      }
      int parts = a.size();
      if (parts == 0 || !a.keySet().equals(b.keySet()) || a.keySet().stream().mapToInt(i -> i).max().getAsInt() != parts - 1) {
        throw error("needs matrix_A.i and matrix_B.i for i = 0..p-1, found A " + a.keySet() + " and B " + b.keySet());
      }
      long out = w.get(0);
      long in = w.get(1);
      if (out % parts != 0) {
        throw error("original.weight has " + out + " rows, not divisible into " + parts + " LoRA parts");
      }
      long rank = a.get(0).tensor().shape().size() == 2 ? a.get(0).tensor().shape().get(0) : -1;
      Dtype dtype = a.get(0).tensor().dtype();
      List<List<ByteRange>> aRanges = new ArrayList<>();
      List<List<ByteRange>> bRanges = new ArrayList<>();
      for (int i = 0; i < parts; i++) {
        check(a.get(i), List.of(rank, in), dtype);
        check(b.get(i), List.of(out / parts, rank), dtype);
        aRanges.add(a.get(i).byteRanges());
        bRanges.add(b.get(i).byteRanges());
      }
      if (rank <= 0 || !DtypeConversions.isCastable(dtype) || !DtypeConversions.isCastable(weight.tensor().dtype())) {
        throw error("LoRA needs rank > 0 and F32/F16/BF16 tensors, found rank " + rank + ", A/B " + dtype
            + ", weight " + weight.tensor().dtype());
      }
      double alpha = alphaOfRank.applyAsDouble((int) rank);
      float scale = (float) (alpha / rank);
      LoraDelta delta = new LoraDelta(dtype, aRanges, bRanges, (int) rank, in, out / parts, alpha, scale);
      List<String> keys = new ArrayList<>(List.of(weight.key()));
      a.values().forEach(t -> keys.add(t.key()));
      b.values().forEach(t -> keys.add(t.key()));
      ComponentTensor base = ComponentTensor.of(name + ".weight", weight);
      return new ComponentTensor(base.key(), base.dtype(), base.shape(), base.sources(), delta, keys, weight);
    }

    private void check(SourceTensor t, List<Long> shape, Dtype dtype) {
      if (!t.tensor().shape().equals(shape) || t.tensor().dtype() != dtype) {
        throw error("'" + t.key() + "' is " + t.tensor().dtype() + t.tensor().shape() + ", expected " + dtype + shape
            + " (A is [r, in], B is [out/p, r], p = " + a.size() + ")");
      }
    }

    private IllegalArgumentException error(String what) {
      SourceTensor any = weight != null ? weight : !a.isEmpty() ? a.values().iterator().next()
          : !b.isEmpty() ? b.values().iterator().next() : bias;
      return new IllegalArgumentException(any.file() + ": LoRA module '" + fullName + "' " + what);
    }
  }
}
