package org.sat2diffusers.transforms.convert;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.dtype.DtypeConversions;
import org.sat2diffusers.io.dtype.Shapes;
import org.sat2diffusers.transforms.lora.LoraGrouper;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.ComponentTensor;
import org.sat2diffusers.transforms.records.Disposition;
import org.sat2diffusers.transforms.records.KeyNames;
import org.sat2diffusers.transforms.records.LoraGroup;
import org.sat2diffusers.transforms.records.OutputTensor;
import org.sat2diffusers.transforms.records.SourceTensor;
import org.sat2diffusers.transforms.records.TensorMapping;
import org.sat2diffusers.transforms.records.Disposition.Fate;
import org.sat2diffusers.transforms.route.ComponentRouter;
import org.sat2diffusers.transforms.route.RoutedTensor;
import org.sat2diffusers.transforms.rules.ComponentRules;
import org.sat2diffusers.transforms.rules.DiffusersNameRules;
import org.sat2diffusers.transforms.rules.RuleOutcome;
import org.sat2diffusers.transforms.rules.TextEncoderRules;
import org.sat2diffusers.transforms.rules.TransformerRules;
import org.sat2diffusers.transforms.rules.VaeRules;

/**
 * The planner's map/merge step: from the checkpoint's tensor records alone, touching no tensor bytes,
 * route keys to components, fold LoRA modules, apply each component's rules, pick output dtypes.
 */
public final class TensorMapper {
  private TensorMapper() {}

  /**
   * @param sources every tensor of the checkpoint, with its file, in state-dict order (files in the
   *     order given)
   * @param loraAlpha SAT lora2 alpha, resolved (not stored by SAT; its default is 1, so the scale is 1/r)
   * @param dtypes per component, the dtype floating-point tensors are cast to; absent means keep
   */
  public static TensorMapping map(List<SourceTensor> sources, double loraAlpha, Map<Component, Dtype> dtypes) {
    return map(sources, loraAlpha, null, dtypes);
  }

  /**
   * As {@link #map(List, double, Map)}, PEFT LoRA modules of Diffusers-named sources merged with
   * {@code peftAlpha} (null: alpha = r, the scale 1 Diffusers loads a PEFT file without alpha at).
   */
  public static TensorMapping map(
      List<SourceTensor> sources, double loraAlpha, Double peftAlpha, Map<Component, Dtype> dtypes) {
    if (!(loraAlpha > 0) || Double.isInfinite(loraAlpha)) {
      throw new IllegalArgumentException("lora alpha must be a positive number, got " + loraAlpha);
    }
    Map<String, Disposition> dispositions = new HashMap<>();
    Set<String> seen = new HashSet<>();
    List<String> unrouted = new ArrayList<>();
    Map<Component, Map<String, SourceTensor>> byComponent = new EnumMap<>(Component.class);
    Map<Component, SourceTensor> namedBy = new EnumMap<>(Component.class); // a component's keys are in one naming
    for (RoutedTensor r : ComponentRouter.route(sources)) {
      String key = r.source().key();
      if (!seen.add(key)) {
        throw new IllegalArgumentException("source key '" + key + "' appears twice (again in " + r.source().file() + ")");
      }
      if (!r.routed()) {
        unrouted.add(key);
        dispositions.put(key, new Disposition(key, Fate.DROPPED, null, List.of(), r.dropReason()));
        continue;
      }
      SourceTensor first = namedBy.putIfAbsent(r.component(), r.source());
      if (first != null && first.names() != r.source().names()) {
        throw new IllegalArgumentException(r.component().folder() + " tensors come both under " + first.names()
            + " names ('" + first.key() + "' in " + first.file() + ") and under " + r.source().names() + " names ('"
            + key + "' in " + r.source().file() + ")");
      }
      SourceTensor previous = byComponent.computeIfAbsent(r.component(), c -> new LinkedHashMap<>())
          .putIfAbsent(r.localKey(), r.source());
      if (previous != null) {
        throw new IllegalArgumentException(
            r.component().folder() + " key '" + r.localKey() + "' comes from both " + previous.file() + " ('"
                + previous.key() + "') and " + r.source().file() + " ('" + key + "')");
      }
    }
    Map<Component, List<OutputTensor>> outputs = new EnumMap<>(Component.class);
    List<LoraGroup> loraGroups = new ArrayList<>();
    byComponent.forEach((component, keyed) -> {
      LoraGrouper.Result grouped = namedBy.get(component).names() == KeyNames.DIFFUSERS_TRANSFORMER
          ? LoraGrouper.groupPeft(keyed, peftAlpha) : LoraGrouper.group(keyed, loraAlpha);
      loraGroups.addAll(grouped.groups());
      ComponentRules rules = rules(component, namedBy.get(component).names());
      List<OutputTensor> list = outputs(component, rules.apply(grouped.tensors()), dtypes.get(component), dispositions);
      if (!list.isEmpty()) {
        outputs.put(component, list);
      }
    });
    List<Disposition> ordered = sources.stream().map(s -> dispositions.get(s.key())).toList();
    return new TensorMapping(outputs, ordered, loraGroups, unrouted);
  }

  private static ComponentRules rules(Component component, KeyNames names) {
    if (names == KeyNames.DIFFUSERS_TRANSFORMER) {
      return new DiffusersNameRules();
    }
    return switch (component) {
      case TRANSFORMER -> new TransformerRules();
      case VAE -> new VaeRules();
      case TEXT_ENCODER -> new TextEncoderRules();
    };
  }

  private static List<OutputTensor> outputs(
      Component component, List<RuleOutcome> outcomes, Dtype target, Map<String, Disposition> dispositions) {
    Map<String, OutputTensor> byName = new LinkedHashMap<>();
    for (RuleOutcome outcome : outcomes) {
      List<String> names = new ArrayList<>();
      for (ComponentTensor t : outcome.outputs()) {
        requireBytes(t);
        OutputTensor out = new OutputTensor(
            component, t.key(), outputDtype(t, target), t.shape(), t.dtype(), t.sources(), t.lora(),
            t.sourceKeys());
        OutputTensor clash = byName.putIfAbsent(out.name(), out);
        if (clash != null) {
          throw new IllegalArgumentException(
              component.folder() + " output '" + out.name() + "' would come from both " + clash.sourceKeys().get(0)
                  + " and " + out.sourceKeys().get(0));
        }
        names.add(out.name());
      }
      ComponentTensor input = outcome.input();
      for (String sourceKey : input.sourceKeys()) {
        dispositions.put(sourceKey, disposition(component, outcome, sourceKey, names));
      }
    }
    return List.copyOf(byName.values());
  }

  private static Disposition disposition(Component component, RuleOutcome outcome, String sourceKey, List<String> names) {
    if (outcome.fate() == Fate.DROPPED) {
      return new Disposition(sourceKey, Fate.DROPPED, null, List.of(), outcome.rule());
    }
    ComponentTensor input = outcome.input();
    if (input.lora() == null) {
      return new Disposition(sourceKey, outcome.fate(), component, names, outcome.rule());
    }
    String lora = "LoRA merged: W + cat_i(B_i @ A_i) * " + input.lora().scale()
        + " (alpha " + input.lora().alpha() + ", r " + input.lora().rank() + ")";
    return sourceKey.equals(input.origin().key())
        ? new Disposition(sourceKey, outcome.fate(), component, names, outcome.rule() + "; " + lora)
        : new Disposition(sourceKey, Fate.LORA_MERGED, component, names, lora);
  }

  /** An output needs its bytes as ranges: a strided source has none and fails here, naming its file and key. */
  private static void requireBytes(ComponentTensor t) {
    long bytes = t.sources().stream().mapToLong(r -> r.length()).sum();
    if (bytes != Shapes.byteLength(t.dtype(), t.shape())) {
      t.origin().byteRange();
      throw new IllegalStateException("'" + t.key() + "': " + bytes + " source bytes for " + t.dtype() + t.shape());
    }
  }

  /** The component's target dtype (null: keep) for floating-point tensors, or the source dtype. */
  private static Dtype outputDtype(ComponentTensor t, Dtype target) {
    if (target == null || target == t.dtype() || !t.dtype().isFloatingPoint()) {
      return t.dtype();
    }
    if (!DtypeConversions.isCastable(t.dtype()) || !DtypeConversions.isCastable(target)) {
      throw new IllegalArgumentException(
          "cannot cast " + t.dtype() + " tensor '" + t.sourceKeys().get(0) + "' to " + target
              + " (casts are between F32, F16 and BF16)");
    }
    return target;
  }
}
