package org.sat2diffusers.transforms.records;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.transforms.records.Disposition.Fate;

/**
 * What one checkpoint becomes: per component the output tensors in state-dict order (as mapped),
 * what became of every source key, and the LoRA modules merged.
 *
 * @param outputs per component present, its tensors in order
 * @param dispositions one per source key, in source order
 * @param loraGroups the LoRA modules found and merged
 * @param unroutedKeys source keys no component takes (dropped by the router)
 */
public record TensorMapping(
    Map<Component, List<OutputTensor>> outputs,
    List<Disposition> dispositions,
    List<LoraGroup> loraGroups,
    List<String> unroutedKeys) {
  public TensorMapping {
    Map<Component, List<OutputTensor>> copy = new EnumMap<>(Component.class);
    outputs.forEach((c, list) -> copy.put(c, List.copyOf(list)));
    outputs = Map.copyOf(copy);
    dispositions = List.copyOf(dispositions);
    loraGroups = List.copyOf(loraGroups);
    unroutedKeys = List.copyOf(unroutedKeys);
  }

  /** The tensors of one component, in order; empty when the checkpoint has none. */
  public List<OutputTensor> outputs(Component component) {
    return outputs.getOrDefault(component, List.of());
  }

  /** The components that have at least one output tensor, in enum order. */
  public List<Component> components() {
    return List.of(Component.values()).stream().filter(c -> !outputs(c).isEmpty()).toList();
  }

  /**
   * This plan without any output of {@code component} (a component the user did not select): its
   * source keys become DROPPED with {@code rule}.
   */
  public TensorMapping withoutComponent(Component component, String rule) {
    Map<Component, List<OutputTensor>> newOutputs = new EnumMap<>(Component.class);
    newOutputs.putAll(outputs);
    newOutputs.remove(component);
    List<Disposition> newDispositions = new ArrayList<>();
    for (Disposition d : dispositions) {
      newDispositions.add(d.component() != component ? d
          : new Disposition(d.sourceKey(), Fate.DROPPED, null, List.of(), rule));
    }
    return new TensorMapping(newOutputs, newDispositions, loraGroups, unroutedKeys);
  }

  /**
   * This plan without output {@code name} of {@code component}: for decisions taken after a first
   * plan, such as dropping the position table once model detection has seen it. Source keys that fed
   * only this output become DROPPED with {@code rule}.
   */
  public TensorMapping dropOutput(Component component, String name, String rule) {
    List<OutputTensor> kept = new ArrayList<>(outputs(component));
    if (!kept.removeIf(t -> t.name().equals(name))) {
      throw new IllegalArgumentException("no output tensor '" + name + "' in " + component.folder());
    }
    Map<Component, List<OutputTensor>> newOutputs = new EnumMap<>(Component.class);
    newOutputs.putAll(outputs);
    if (kept.isEmpty()) {
      newOutputs.remove(component);
    } else {
      newOutputs.put(component, kept);
    }
    List<Disposition> newDispositions = new ArrayList<>();
    for (Disposition d : dispositions) {
      if (d.component() != component || !d.outputs().contains(name)) {
        newDispositions.add(d);
      } else if (d.outputs().size() == 1) {
        newDispositions.add(new Disposition(d.sourceKey(), Fate.DROPPED, null, List.of(), rule));
      } else {
        List<String> rest = new ArrayList<>(d.outputs());
        rest.remove(name);
        newDispositions.add(new Disposition(d.sourceKey(), d.fate(), component, rest, d.rule()));
      }
    }
    return new TensorMapping(newOutputs, newDispositions, loraGroups, unroutedKeys);
  }
}
