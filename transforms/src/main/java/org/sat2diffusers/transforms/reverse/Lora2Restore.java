package org.sat2diffusers.transforms.reverse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.transforms.records.DiffusersTensor;
import org.sat2diffusers.transforms.records.SatTensor;

/**
 * A Diffusers/PEFT LoRA adapter of the transformer written back as SAT lora2 ({@code
 * sat.model.finetune.lora2.LoraMixin}): each wrapped module M keeps its frozen weight as {@code
 * M.original.weight} / {@code M.original.bias} and gets {@code M.matrix_A.<i>} ([r, in]) and {@code
 * M.matrix_B.<i>} ([out/p, r]), one pair per part: the adapter's to_q, to_k, to_v (in the order the
 * inverse rules fused them) for query_key_value, to_out.0 for dense. lora2 wraps nothing else and
 * has one rank, so an adapter of other modules or of another rank cannot be written this way.
 */
final class Lora2Restore {
  /** The SAT modules lora2 wraps in every layer of its layer_range. */
  static final Pattern WRAPPED = Pattern.compile("^(transformer\\.layers\\.(\\d+)\\.attention\\.(?:query_key_value|dense))\\.(weight|bias)$");
  /** A lora2 module's first matrix: its layer is adapted. */
  static final Pattern WRAPPED_LAYER = Pattern.compile("^transformer\\.layers\\.(\\d+)\\.attention\\.(?:query_key_value|dense)\\.matrix_A\\.0$");
  /** Prefixes adapter keys carry: Diffusers' component name, PEFT's wrapper. */
  static final List<String> ADAPTER_PREFIXES = List.of("transformer.", "base_model.model.");
  static final String LORA_A = ".lora_A.weight";
  static final String LORA_B = ".lora_B.weight";

  /**
   * @param tensors the transformer's SAT tensors with the adapted modules wrapped
   * @param alpha SAT's lora_alpha giving the adapter's scale (alpha / r)
   * @param layers the layers whose modules carry LoRA (SAT's layer_range)
   */
  record Result(List<SatTensor> tensors, double alpha, List<Integer> layers) {}

  private record Pair(DiffusersTensor a, DiffusersTensor b) {}

  private Lora2Restore() {}

  static Result restore(List<SatTensor> transformer, DiffusersModel.Adapter adapter, int rank) {
    if (adapter == null) {
      throw new IllegalArgumentException("--lora-rank " + rank + ": the Diffusers folder has no LoRA adapter"
          + " (transformer/pytorch_lora_weights.safetensors)");
    }
    Map<String, Pair> pairs = pairs(adapter);
    Map<String, Pair> unused = new LinkedHashMap<>(pairs);
    List<String> keys = transformer.stream().map(SatTensor::key).toList();
    TreeSet<Integer> layers = new TreeSet<>();
    List<SatTensor> out = new ArrayList<>();
    Map<String, List<SatTensor>> pendingMatrices = new LinkedHashMap<>();
    for (SatTensor t : transformer) {
      Matcher m = WRAPPED.matcher(t.key());
      if (!m.matches()) {
        out.add(t);
        continue;
      }
      String module = m.group(1);
      List<String> parts = t.sourceKeys().stream().map(k -> k.substring(0, k.lastIndexOf('.'))).toList();
      long adapted = parts.stream().filter(pairs::containsKey).count();
      if (adapted == 0) {
        out.add(t);
        continue;
      }
      if (adapted < parts.size()) {
        throw new IllegalArgumentException(adapter.file() + ": SAT lora2 adapts " + module + " as a whole, but the adapter"
            + " has LoRA for only " + parts.stream().filter(pairs::containsKey).toList() + " of " + parts
            + ": merge it first (merge-lora)");
      }
      layers.add(Integer.parseInt(m.group(2)));
      out.add(t.withKey(module + ".original." + m.group(3)).withRule(t.rule() + "; frozen weight of lora2"));
      if (m.group(3).equals("weight")) {
        pendingMatrices.put(module, matrices(module, parts, pairs, rank, adapter.file()));
        parts.forEach(unused::remove);
      }
      boolean biasFollows = m.group(3).equals("weight") && keys.contains(module + ".bias");
      if (!biasFollows) {
        out.addAll(pendingMatrices.remove(module));
      }
    }
    if (!unused.isEmpty()) {
      throw new IllegalArgumentException(adapter.file() + ": SAT lora2 wraps only attention query_key_value and dense"
          + " (to_q, to_k, to_v, to_out.0); the adapter also has " + unused.keySet() + ": merge it first (merge-lora)");
    }
    return new Result(out, alpha(adapter, pairs, rank), List.copyOf(layers));
  }

  /** matrix_A.i and matrix_B.i for each part, A's first; every A must have the rank asked for. */
  private static List<SatTensor> matrices(String module, List<String> parts, Map<String, Pair> pairs, int rank,
      String file) {
    List<SatTensor> as = new ArrayList<>();
    List<SatTensor> bs = new ArrayList<>();
    for (int i = 0; i < parts.size(); i++) {
      Pair p = pairs.get(parts.get(i));
      long r = p.a().shape().get(0);
      if (p.a().shape().size() != 2 || p.b().shape().size() != 2 || r != rank || p.b().shape().get(1) != r) {
        throw new IllegalArgumentException(file + ": " + p.a().key() + " " + p.a().shape() + " and " + p.b().key() + " "
            + p.b().shape() + " are not a rank-" + rank + " pair (--lora-rank " + rank + "); SAT lora2 has one rank:"
            + " give the adapter's, or merge it first (merge-lora)");
      }
      as.add(matrix(module + ".matrix_A." + i, p.a(), "lora_A of " + parts.get(i) + " as lora2 matrix_A." + i));
      bs.add(matrix(module + ".matrix_B." + i, p.b(), "lora_B of " + parts.get(i) + " as lora2 matrix_B." + i));
    }
    as.addAll(bs);
    return as;
  }

  private static SatTensor matrix(String key, DiffusersTensor t, String rule) {
    return new SatTensor(key, t.dtype(), t.shape(), t.dtype(), List.of(t.bytes()), null, null, List.of(t.key()), rule);
  }

  /** Module name (as the inverse rules' source keys name it) to its A and B. */
  private static Map<String, Pair> pairs(DiffusersModel.Adapter adapter) {
    Map<String, DiffusersTensor> a = new LinkedHashMap<>();
    Map<String, DiffusersTensor> b = new LinkedHashMap<>();
    for (DiffusersTensor t : adapter.tensors()) {
      String key = t.key();
      for (String prefix : ADAPTER_PREFIXES) {
        if (key.startsWith(prefix)) {
          key = key.substring(prefix.length());
          break;
        }
      }
      if (key.endsWith(LORA_A)) {
        a.put(key.substring(0, key.length() - LORA_A.length()), t);
      } else if (key.endsWith(LORA_B)) {
        b.put(key.substring(0, key.length() - LORA_B.length()), t);
      } else {
        throw new IllegalArgumentException(adapter.file() + ": '" + t.key() + "' is neither a lora_A nor a lora_B weight");
      }
    }
    if (!a.keySet().equals(b.keySet())) {
      throw new IllegalArgumentException(adapter.file() + ": lora_A and lora_B do not pair up for "
          + symmetricDifference(a.keySet(), b.keySet()));
    }
    Map<String, Pair> pairs = new LinkedHashMap<>();
    a.forEach((module, at) -> pairs.put(module, new Pair(at, b.get(module))));
    return pairs;
  }

  /** SAT scales by lora_alpha / r: the alpha that gives every module the adapter's own scale. */
  private static double alpha(DiffusersModel.Adapter adapter, Map<String, Pair> pairs, int rank) {
    if (adapter.config() == null) {
      throw new IllegalArgumentException(adapter.file() + ": no lora_adapter_metadata and no adapter_config.json"
          + " beside it, so its scale (lora_alpha / r) is unknown and SAT's lora_alpha cannot be set");
    }
    TreeSet<Double> scales = new TreeSet<>();
    pairs.keySet().forEach(module -> scales.add(adapter.config().scale(module, rank)));
    if (scales.size() != 1) {
      throw new IllegalArgumentException(adapter.file() + ": its modules have the scales " + scales
          + "; SAT lora2 has one lora_alpha for all: merge it first (merge-lora)");
    }
    return scales.first() * rank;
  }

  private static TreeSet<String> symmetricDifference(Set<String> x, Set<String> y) {
    TreeSet<String> out = new TreeSet<>(x);
    out.addAll(y);
    TreeSet<String> both = new TreeSet<>(x);
    both.retainAll(y);
    out.removeAll(both);
    return out;
  }
}
