package org.sat2diffusers.transforms.rules;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.transforms.records.ComponentTensor;
import org.sat2diffusers.transforms.records.DiffusersTensor;
import org.sat2diffusers.transforms.records.SatTensor;

/**
 * {@code CogVideoXTransformer3DModel} keys back to SAT transformer keys. The inverse is not written
 * by hand: SAT's parameter names (ordered data below) are run through the forward {@link
 * TransformerRules} as stand-ins whose bytes are labelled, and what the forward rules make of each
 * labelled byte says where it comes back from. A fused {@code query_key_value} thus becomes to_q,
 * to_k, to_v in that order, an adaLN modulation the twelve chunks of norm1.linear and norm2.linear in
 * SAT's order, and a change to the forward rules changes the way back with it.
 */
public final class TransformerInverseRules {
  /** Stands for a layer index in {@link #SAT_MODULES}. */
  static final String LAYER = "{i}";

  /**
   * SAT's transformer modules, in the order SAT's state dict lists them: a group with {@link #LAYER}
   * repeats per layer. Each gets {@code .weight} and {@code .bias} but the position table, a bare
   * parameter.
   */
  static final List<List<String>> SAT_MODULES = List.of(
      List.of("transformer.layers.{i}.input_layernorm", "transformer.layers.{i}.attention.query_key_value",
          "transformer.layers.{i}.attention.dense", "transformer.layers.{i}.post_attention_layernorm",
          "transformer.layers.{i}.mlp.dense_h_to_4h", "transformer.layers.{i}.mlp.dense_4h_to_h"),
      List.of("transformer.final_layernorm"),
      List.of("mixins.pos_embed.pos_embedding"),
      List.of("mixins.patch_embed.proj", "mixins.patch_embed.text_proj"),
      List.of("mixins.adaln_layer.adaLN_modulations.{i}.1"),
      List.of("mixins.adaln_layer.query_layernorm_list.{i}"),
      List.of("mixins.adaln_layer.key_layernorm_list.{i}"),
      List.of("mixins.final_layer.norm_final", "mixins.final_layer.linear", "mixins.final_layer.adaLN_modulation.1"),
      List.of("time_embed.0", "time_embed.2"),
      List.of("ofs_embed.0", "ofs_embed.2"));

  /** The SAT key of the position table (a parameter without .weight). */
  public static final String POSITION_TABLE = "mixins.pos_embed.pos_embedding";

  private static final List<String> PARAMETERS = List.of("weight", "bias");
  private static final Pattern BLOCK = Pattern.compile("^transformer_blocks\\.(\\d+)\\.");
  /** Stand-in bytes per SAT tensor: divisible by the 3 parts of query_key_value and the 12 adaLN chunks. */
  private static final long STAND_IN_BYTES = 12;

  /**
   * Where each byte of a SAT tensor comes from: {@code length} stand-in bytes at {@code satOffset}
   * of the SAT tensor are those at {@code offset} of the Diffusers tensor {@code diffusersKey}, which
   * has {@code diffusersLength} stand-in bytes in all.
   */
  record Segment(long satOffset, String diffusersKey, long offset, long length, long diffusersLength) {}

  /** Every SAT key of a model with {@code layers} layers, in state-dict order, with its segments in SAT order. */
  static Map<String, List<Segment>> inverse(int layers) {
    List<ComponentTensor> standIns = new ArrayList<>();
    for (List<String> group : SAT_MODULES) {
      boolean perLayer = group.get(0).contains(LAYER);
      for (int i = 0; i < (perLayer ? layers : 1); i++) {
        for (String module : group) {
          String name = module.replace(LAYER, Integer.toString(i));
          if (name.equals(POSITION_TABLE)) {
            standIns.add(standIn(name));
          } else {
            PARAMETERS.forEach(p -> standIns.add(standIn(name + "." + p)));
          }
        }
      }
    }
    Map<String, List<Segment>> segments = new LinkedHashMap<>();
    standIns.forEach(t -> segments.put(t.key(), new ArrayList<>()));
    for (RuleOutcome outcome : new TransformerRules().apply(standIns)) {
      for (ComponentTensor out : outcome.outputs()) {
        long length = out.sources().stream().mapToLong(ByteRange::length).sum();
        long at = 0;
        for (ByteRange r : out.sources()) {
          segments.get(r.file()).add(new Segment(r.offset(), out.key(), at, r.length(), length));
          at += r.length();
        }
      }
    }
    segments.values().forEach(list -> list.sort((a, b) -> Long.compare(a.satOffset(), b.satOffset())));
    return segments;
  }

  /** A SAT tensor whose bytes name it: its one range lies in a "file" called by its key. */
  private static ComponentTensor standIn(String satKey) {
    return new ComponentTensor(satKey, Dtype.U8, List.of(STAND_IN_BYTES), List.of(new ByteRange(satKey, 0, STAND_IN_BYTES)),
        null, List.of(satKey), null);
  }

  /** The Diffusers keys of every block, from {@code transformer_blocks.<i>.}: the number of layers. */
  public static int layers(List<DiffusersTensor> tensors) {
    TreeSet<Integer> blocks = new TreeSet<>();
    for (DiffusersTensor t : tensors) {
      Matcher m = BLOCK.matcher(t.key());
      if (m.find()) {
        blocks.add(Integer.parseInt(m.group(1)));
      }
    }
    if (!blocks.isEmpty() && blocks.last() != blocks.size() - 1) {
      throw new IllegalArgumentException("transformer blocks must be numbered 0..n-1, found " + blocks);
    }
    return blocks.size();
  }

  /**
   * The SAT transformer tensors (keys inside the transformer, without {@code model.diffusion_model.})
   * made of {@code tensors}, in SAT's order. A SAT module all of whose parts are absent (a bias the
   * model has not, ofs_embed of a model without it, the sincos table Diffusers does not keep) is
   * left out; one with only some parts present, or a Diffusers key no SAT parameter becomes, fails.
   */
  public static List<SatTensor> apply(List<DiffusersTensor> tensors) {
    Map<String, DiffusersTensor> byKey = new LinkedHashMap<>();
    tensors.forEach(t -> byKey.put(t.key(), t));
    Map<String, List<Segment>> inverse = inverse(layers(tensors));
    TreeSet<String> unknown = new TreeSet<>(byKey.keySet());
    List<SatTensor> out = new ArrayList<>();
    for (Map.Entry<String, List<Segment>> e : inverse.entrySet()) {
      List<Segment> segments = e.getValue();
      segments.forEach(s -> unknown.remove(s.diffusersKey()));
      long present = segments.stream().filter(s -> byKey.containsKey(s.diffusersKey())).count();
      if (present == 0) {
        continue;
      }
      if (present < segments.size()) {
        throw new IllegalArgumentException("transformer: SAT's " + e.getKey() + " is made of "
            + segments.stream().map(Segment::diffusersKey).distinct().toList() + ", but "
            + segments.stream().map(Segment::diffusersKey).filter(k -> !byKey.containsKey(k)).distinct().toList()
            + " are missing");
      }
      out.add(assemble(e.getKey(), segments, byKey));
    }
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("transformer: " + unknown.size() + " keys are no parameter of SAT's"
          + " CogVideoX transformer (the forward rules make none of them): " + unknown);
    }
    return out;
  }

  /** The SAT tensor: each stand-in segment scaled to the real bytes of its Diffusers tensor, in SAT order. */
  private static SatTensor assemble(String satKey, List<Segment> segments, Map<String, DiffusersTensor> byKey) {
    DiffusersTensor first = byKey.get(segments.get(0).diffusersKey());
    List<ByteRange> ranges = new ArrayList<>();
    List<String> sourceKeys = new ArrayList<>();
    long bytes = 0;
    for (Segment s : segments) {
      DiffusersTensor d = byKey.get(s.diffusersKey());
      if (d.dtype() != first.dtype() || !trailing(d).equals(trailing(first))) {
        throw new IllegalArgumentException("transformer: SAT's " + satKey + " joins the rows of " + first.key() + " "
            + first.dtype() + first.shape() + " and " + d.key() + " " + d.dtype() + d.shape() + ", which do not fit");
      }
      long total = d.bytes().length();
      long from = s.offset() * total;
      long length = s.length() * total;
      if (from % s.diffusersLength() != 0 || length % s.diffusersLength() != 0
          || (length / s.diffusersLength()) % d.rowBytes() != 0 || (from / s.diffusersLength()) % d.rowBytes() != 0) {
        throw new IllegalArgumentException("transformer: " + d.key() + " " + d.shape() + " does not split into the "
            + "equal row ranges SAT's " + satKey + " takes from it");
      }
      ByteRange range = new ByteRange(d.bytes().file(), d.bytes().offset() + from / s.diffusersLength(),
          length / s.diffusersLength());
      ByteRange last = ranges.isEmpty() ? null : ranges.get(ranges.size() - 1);
      if (last != null && last.file().equals(range.file()) && last.end() == range.offset()) {
        ranges.set(ranges.size() - 1, new ByteRange(last.file(), last.offset(), last.length() + range.length()));
      } else {
        ranges.add(range);
      }
      bytes += range.length();
      if (!sourceKeys.contains(d.key())) {
        sourceKeys.add(d.key());
      }
    }
    List<Long> shape = new ArrayList<>(first.shape());
    if (segments.size() > 1 || sourceKeys.size() > 1) {
      shape.set(0, bytes / first.rowBytes());
    }
    String rule = sourceKeys.size() == 1 && segments.size() == 1 ? "rename (forward rules inverted)"
        : "fuse " + String.join(", ", sourceKeys) + " along dim 0 in SAT's order (" + ranges.size()
            + " row ranges; the forward split inverted)";
    return new SatTensor(satKey, first.dtype(), shape, first.dtype(), ranges, null, null, sourceKeys, rule);
  }

  private static List<Long> trailing(DiffusersTensor t) {
    return t.shape().isEmpty() ? List.of() : t.shape().subList(1, t.shape().size());
  }
}
