package org.sat2diffusers.transforms.adapter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.sat2diffusers.io.json.PythonJson;

/**
 * The PEFT {@code LoraConfig} fields that decide a LoRA's strength, as Diffusers stores them in an
 * adapter file's {@code lora_adapter_metadata} (a JSON string of the fields, each key prefixed with the
 * component, e.g. {@code transformer.lora_alpha}) or PEFT in {@code adapter_config.json}. PEFT scales
 * a module's update by {@code lora_alpha / r} ({@code / sqrt(r)} with rsLoRA), where a module's r and
 * alpha come from {@code rank_pattern} / {@code alpha_pattern} when a key there matches its name.
 *
 * @param r the rank of modules no rank_pattern key matches
 * @param loraAlpha the alpha of modules no alpha_pattern key matches
 * @param rankPattern module name pattern to rank
 * @param alphaPattern module name pattern to alpha
 * @param targetModules module names or name suffixes the adapter applies to
 * @param useRslora scale by alpha / sqrt(r) instead of alpha / r
 */
public record PeftLoraConfig(
    int r,
    double loraAlpha,
    Map<String, Integer> rankPattern,
    Map<String, Double> alphaPattern,
    List<String> targetModules,
    boolean useRslora) {
  /** The safetensors metadata key Diffusers writes and reads ({@code LORA_ADAPTER_METADATA_KEY}). */
  public static final String METADATA_KEY = "lora_adapter_metadata";

  public PeftLoraConfig {
    rankPattern = Map.copyOf(rankPattern);
    alphaPattern = Map.copyOf(alphaPattern);
    targetModules = List.copyOf(targetModules);
    if (r <= 0 || !(loraAlpha > 0) || Double.isInfinite(loraAlpha)) {
      throw new IllegalArgumentException("LoRA config needs r > 0 and a positive lora_alpha, got r " + r
          + ", lora_alpha " + loraAlpha);
    }
  }

  /**
   * The config of SAT lora2 modules exported as an adapter: PEFT's lora_alpha / r equals SAT's
   * alpha / r for every module, or is 1 when the scale is folded into B (lora_alpha = r).
   *
   * @param moduleRanks adapter module name (no component prefix) to its rank
   * @param satAlpha the job's lora alpha
   * @param targetModules what the config names as target modules
   */
  public static PeftLoraConfig forSatModules(
      Map<String, Integer> moduleRanks, double satAlpha, boolean foldScale, List<String> targetModules) {
    Map<Integer, Integer> counts = new TreeMap<>();
    moduleRanks.values().forEach(r -> counts.merge(r, 1, Integer::sum));
    int r = counts.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    Map<String, Integer> rankPattern = new TreeMap<>();
    Map<String, Double> alphaPattern = new TreeMap<>();
    moduleRanks.forEach((module, rank) -> {
      if (rank != r) {
        String exact = module.replace(".", "\\."); // PEFT matches pattern keys as regexes: (.*\.)?(key)$
        rankPattern.put(exact, rank);
        if (foldScale) {
          alphaPattern.put(exact, (double) rank);
        }
      }
    });
    return new PeftLoraConfig(r, foldScale ? r : satAlpha, rankPattern, alphaPattern, targetModules, false);
  }

  /** Reads the fields of a {@code lora_adapter_metadata} string for component {@code prefix} (unprefixed keys too). */
  public static PeftLoraConfig fromAdapterMetadata(String json, String prefix, String file) {
    Map<String, Object> all = object(json, file + ": metadata " + METADATA_KEY);
    Map<String, Object> fields = new LinkedHashMap<>();
    all.forEach((k, v) -> {
      if (k.startsWith(prefix + ".")) {
        fields.put(k.substring(prefix.length() + 1), v);
      }
    });
    return fromFields(fields.isEmpty() ? all : fields, file + ": metadata " + METADATA_KEY);
  }

  /** Reads PEFT's {@code adapter_config.json}. */
  public static PeftLoraConfig fromAdapterConfig(String json, String file) {
    return fromFields(object(json, file), file);
  }

  /** The {@code lora_adapter_metadata} string as Diffusers writes it: json.dumps(indent=2, sort_keys=True). */
  public String adapterMetadata(String prefix) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("r", r);
    fields.put("lora_alpha", number(loraAlpha));
    fields.put("target_modules", new ArrayList<>(new TreeSet<>(targetModules)));
    fields.put("rank_pattern", rankPattern);
    Map<String, Object> alphas = new TreeMap<>();
    alphaPattern.forEach((k, v) -> alphas.put(k, number(v)));
    fields.put("alpha_pattern", alphas);
    fields.put("lora_dropout", 0.0);
    fields.put("bias", "none");
    fields.put("init_lora_weights", true);
    fields.put("use_rslora", useRslora);
    fields.put("use_dora", false);
    fields.put("fan_in_fan_out", false);
    Map<String, Object> prefixed = new LinkedHashMap<>();
    fields.forEach((k, v) -> prefixed.put(prefix + "." + k, v));
    return PythonJson.dumps(prefixed, true);
  }

  /** The rank PEFT gives {@code module}: a matching rank_pattern entry, else r. */
  public int rank(String module) {
    return match(rankPattern, module).orElse(r);
  }

  /** PEFT's scale for {@code module}: its alpha over its rank (or the rank's square root with rsLoRA). */
  public double scale(String module, int rank) {
    double alpha = match(alphaPattern, module).orElse(loraAlpha);
    return useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
  }

  private static <V> Optional<V> match(Map<String, V> pattern, String module) {
    for (Map.Entry<String, V> e : pattern.entrySet()) {
      if (Pattern.compile("(.*\\.)?(" + e.getKey() + ")$").matcher(module).matches()) {
        return Optional.of(e.getValue());
      }
    }
    return Optional.empty();
  }

  private static PeftLoraConfig fromFields(Map<String, Object> f, String what) {
    if (Boolean.TRUE.equals(f.get("use_dora"))) {
      throw new IllegalArgumentException(what + ": use_dora is true; DoRA adapters cannot be merged as plain LoRA");
    }
    if (!(f.get("r") instanceof Number r) || !(f.get("lora_alpha") instanceof Number alpha)) {
      throw new IllegalArgumentException(what + ": needs numeric r and lora_alpha, found r " + f.get("r")
          + ", lora_alpha " + f.get("lora_alpha"));
    }
    Map<String, Integer> ranks = new LinkedHashMap<>();
    patterns(f, "rank_pattern", what).forEach((k, v) -> ranks.put(k, v.intValue()));
    Map<String, Double> alphas = new LinkedHashMap<>();
    patterns(f, "alpha_pattern", what).forEach((k, v) -> alphas.put(k, v.doubleValue()));
    List<String> targets = new ArrayList<>();
    if (f.get("target_modules") instanceof List<?> list) {
      list.forEach(t -> targets.add(String.valueOf(t)));
    } else if (f.get("target_modules") instanceof String one) {
      targets.add(one);
    }
    return new PeftLoraConfig(r.intValue(), alpha.doubleValue(), ranks, alphas, targets,
        Boolean.TRUE.equals(f.get("use_rslora")));
  }

  private static Map<String, Number> patterns(Map<String, Object> f, String key, String what) {
    Map<String, Number> out = new LinkedHashMap<>();
    if (f.get(key) instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getValue() instanceof Number n)) {
          throw new IllegalArgumentException(what + ": " + key + "['" + e.getKey() + "'] is not a number");
        }
        out.put(String.valueOf(e.getKey()), n);
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> object(String json, String what) {
    Object parsed;
    try {
      parsed = PythonJson.parse(json);
    } catch (Exception e) {
      throw new IllegalArgumentException(what + " is not valid JSON: " + e.getMessage(), e);
    }
    if (!(parsed instanceof Map<?, ?>)) {
      throw new IllegalArgumentException(what + " is not a JSON object");
    }
    return (Map<String, Object>) parsed;
  }

  /** Integral values as integers, as a trainer's LoraConfig holds them (lora_alpha=128). */
  private static Object number(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15 ? (Object) (long) value : (Object) value;
  }
}
