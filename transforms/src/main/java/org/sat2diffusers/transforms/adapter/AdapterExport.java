package org.sat2diffusers.transforms.adapter;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.TensorMapping;
import org.sat2diffusers.transforms.records.Disposition;
import org.sat2diffusers.transforms.records.Disposition.Fate;
import org.sat2diffusers.transforms.records.LoraDelta;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * SAT lora2 updates as a Diffusers LoRA file: every planned transformer weight that carries a LoRA
 * update {@code B @ A * alpha / r} (one part each once query_key_value is split into to_q/to_k/to_v)
 * gives {@code transformer.<module>.lora_A.weight} ([r, in], the bytes of SAT's matrix_A) and
 * {@code transformer.<module>.lora_B.weight} ([out, r], matrix_B; times alpha / r when the scale is
 * folded). The weights themselves stay merged ({@link LoraMode#BOTH}) or go back to the frozen
 * original ({@link LoraMode#ADAPTER}). Plans only: no tensor bytes are read.
 */
public final class AdapterExport {
  /** The file name Diffusers' {@code load_lora_weights} looks for. */
  public static final String FILE = "pytorch_lora_weights.safetensors";
  /** Diffusers' CogVideoX pipelines load LoRA keys under the transformer's name. */
  public static final String PREFIX = "transformer";

  private static final Pattern BLOCK_MODULE = Pattern.compile("^transformer_blocks\\.(\\d+)\\.(.+)$");

  /**
   * @param mapping the plan with its weights as they should be written (frozen or merged)
   * @param tensors the adapter file's tensors, in module order (A then B)
   * @param config the PEFT config whose lora_alpha / r gives each module SAT's scale (or 1 when folded)
   * @param satAlpha the job's SAT alpha
   * @param satScale SAT's alpha / r of the most common rank: what the file's metadata or folded B already applies
   */
  public record Result(
      TensorMapping mapping, List<OutputTensor> tensors, PeftLoraConfig config, double satAlpha, double satScale) {
    public Result {
      tensors = List.copyOf(tensors);
    }
  }

  private AdapterExport() {}

  /**
   * @param mapping a plan whose LoRA weights carry their update (as the planner makes them)
   * @param mode {@link LoraMode#ADAPTER} or {@link LoraMode#BOTH}
   * @param foldScale multiply B by alpha / r (exactly in fp32, one rounding) and write lora_alpha = r
   */
  public static Result export(TensorMapping mapping, LoraMode mode, boolean foldScale) {
    if (!mode.exportsAdapter()) {
      throw new IllegalArgumentException("LoRA mode " + mode.cliName() + " writes no adapter file");
    }
    Map<String, Integer> ranks = new LinkedHashMap<>();
    List<OutputTensor> tensors = new ArrayList<>();
    Map<String, List<String>> adapterNamesByWeight = new HashMap<>();
    Map<Component, List<OutputTensor>> weights = new EnumMap<>(Component.class);
    double satAlpha = Double.NaN;
    for (Component c : mapping.components()) {
      List<OutputTensor> kept = new ArrayList<>();
      for (OutputTensor t : mapping.outputs(c)) {
        if (t.lora() == null) {
          kept.add(t);
          continue;
        }
        String module = module(c, t);
        LoraDelta lora = t.lora();
        ranks.put(module, lora.rank());
        satAlpha = lora.alpha();
        String a = PREFIX + "." + module + ".lora_A.weight";
        String b = PREFIX + "." + module + ".lora_B.weight";
        // A cast asked for the transformer applies to its adapter too; otherwise A and B keep their dtype.
        var dtype = t.dtype() == t.sourceDtype() ? lora.dtype() : t.dtype();
        tensors.add(new OutputTensor(Component.TRANSFORMER, a, dtype, List.of((long) lora.rank(), lora.inFeatures()),
            lora.dtype(), flat(lora.a()), null, matrixKeys(t, "matrix_A")));
        OutputTensor bTensor = new OutputTensor(Component.TRANSFORMER, b, dtype, List.of(lora.outPerPart(),
            (long) lora.rank()), lora.dtype(), flat(lora.b()), null, matrixKeys(t, "matrix_B"));
        tensors.add(foldScale ? bTensor.scaled(lora.scale()) : bTensor);
        adapterNamesByWeight.put(t.name(), List.of(a, b));
        kept.add(mode.merges() ? t : t.withoutLora());
      }
      weights.put(c, kept);
    }
    if (tensors.isEmpty()) {
      throw new IllegalArgumentException(
          "--lora-mode " + mode.cliName() + ": the checkpoint holds no SAT lora2 weights to export");
    }
    PeftLoraConfig config = PeftLoraConfig.forSatModules(ranks, satAlpha, foldScale, targetModules(ranks.keySet(), mapping));
    TensorMapping planned = new TensorMapping(weights, dispositions(mapping, mode, adapterNamesByWeight),
        mapping.loraGroups(), mapping.unroutedKeys());
    return new Result(planned, tensors, config, satAlpha, satAlpha / config.r());
  }

  /** The adapter module of a LoRA weight: its name without {@code .weight}; only one-part transformer updates qualify. */
  /** A matrix's parts concatenated: the adapter file holds each module's A (B) as one tensor. */
  private static List<ByteRange> flat(List<List<ByteRange>> parts) {
    return parts.stream().flatMap(List::stream).toList();
  }

  private static String module(Component c, OutputTensor t) {
    if (c != Component.TRANSFORMER || !t.name().endsWith(".weight")) {
      throw new IllegalArgumentException(c.folder() + " tensor '" + t.name() + "' carries a LoRA update, but only"
          + " transformer weights can be exported to a Diffusers adapter file");
    }
    if (t.lora().parts() != 1) {
      throw new IllegalArgumentException("transformer tensor '" + t.name() + "' concatenates " + t.lora().parts()
          + " LoRA parts; an adapter holds one A and one B per module");
    }
    return t.name().substring(0, t.name().length() - ".weight".length());
  }

  private static List<String> matrixKeys(OutputTensor t, String matrix) {
    return t.sourceKeys().stream().filter(k -> k.contains("." + matrix + ".")).toList();
  }

  /**
   * PEFT matches a target module by its name or a dotted suffix of it. The short suffixes Diffusers'
   * trainer uses ({@code to_q}, {@code to_out.0}, ...) are exact when every block has the same
   * adapted modules; otherwise (SAT's layer_range) only the full names are.
   */
  private static List<String> targetModules(Set<String> modules, TensorMapping mapping) {
    Set<String> blocks = new TreeSet<>();
    Set<String> suffixes = new TreeSet<>();
    for (String m : modules) {
      Matcher matcher = BLOCK_MODULE.matcher(m);
      if (!matcher.matches()) {
        return List.copyOf(new TreeSet<>(modules));
      }
      blocks.add(matcher.group(1));
      suffixes.add(matcher.group(2));
    }
    Set<String> allBlocks = new TreeSet<>();
    for (OutputTensor t : mapping.outputs(Component.TRANSFORMER)) {
      Matcher matcher = BLOCK_MODULE.matcher(t.name());
      if (matcher.matches()) {
        allBlocks.add(matcher.group(1));
      }
    }
    boolean uniform = blocks.equals(allBlocks) && modules.size() == blocks.size() * suffixes.size();
    List<String> out = new ArrayList<>();
    if (uniform) {
      suffixes.forEach(s -> out.add(s.startsWith("attn1.") ? s.substring("attn1.".length()) : s));
    } else {
      out.addAll(new TreeSet<>(modules));
    }
    return out;
  }

  /** The LoRA matrices now feed the adapter file; with ADAPTER, the weights are the frozen originals. */
  private static List<Disposition> dispositions(
      TensorMapping mapping, LoraMode mode, Map<String, List<String>> adapterNamesByWeight) {
    String file = PREFIX + "/" + FILE;
    List<Disposition> out = new ArrayList<>();
    for (Disposition d : mapping.dispositions()) {
      List<String> adapterNames = new ArrayList<>();
      for (String o : d.outputs()) {
        adapterNames.addAll(adapterNamesByWeight.getOrDefault(o, List.of()));
      }
      if (adapterNames.isEmpty()) {
        out.add(d);
      } else if (d.fate() == Fate.LORA_MERGED) {
        String matrix = d.sourceKey().contains(".matrix_A.") ? ".lora_A.weight" : ".lora_B.weight";
        List<String> fed = adapterNames.stream().filter(n -> n.endsWith(matrix)).toList();
        String rule = "LoRA exported to " + file + (mode.merges() ? "; also " + d.rule() : "");
        out.add(new Disposition(d.sourceKey(), mode.merges() ? Fate.LORA_MERGED : Fate.MAPPED, d.component(),
            mode.merges() ? concat(d.outputs(), fed) : fed, rule));
      } else if (!mode.merges()) {
        int merged = d.rule().indexOf("; LoRA merged");
        String rule = (merged < 0 ? d.rule() : d.rule().substring(0, merged)) + "; frozen weight (LoRA in " + file + ")";
        out.add(new Disposition(d.sourceKey(), d.fate(), d.component(), d.outputs(), rule));
      } else {
        out.add(d);
      }
    }
    return out;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
