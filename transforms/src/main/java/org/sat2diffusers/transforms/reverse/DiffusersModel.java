package org.sat2diffusers.transforms.reverse;

import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.transforms.adapter.PeftLoraConfig;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.DiffusersTensor;

/**
 * What the way back needs of a Diffusers folder, read without loading a tensor: each component's
 * tensors (with their byte ranges) and parsed {@code config.json}, the scheduler config, and a LoRA
 * adapter file when there is one.
 *
 * @param tensors the tensors per component present (the transformer is required)
 * @param configs each component's {@code config.json} as parsed JSON (absent when the folder has none)
 * @param schedulerConfig {@code scheduler/scheduler_config.json}, or an empty map
 * @param adapter the transformer's LoRA adapter file, or null
 */
public record DiffusersModel(
    Map<Component, List<DiffusersTensor>> tensors,
    Map<Component, Map<String, Object>> configs,
    Map<String, Object> schedulerConfig,
    Adapter adapter) {
  public DiffusersModel {
    tensors = tensors.isEmpty() ? Map.of() : Map.copyOf(new EnumMap<>(tensors));
    configs = Map.copyOf(configs);
    schedulerConfig = Collections.unmodifiableMap(new LinkedHashMap<>(schedulerConfig)); // JSON nulls: no Map.copyOf
  }

  /**
   * A Diffusers/PEFT LoRA file of the transformer.
   *
   * @param file where it is
   * @param tensors its tensors, keys as in the file ({@code transformer.<module>.lora_A.weight}, ...)
   * @param config its PEFT config (the file's metadata or adapter_config.json), or null when neither says
   */
  public record Adapter(String file, List<DiffusersTensor> tensors, PeftLoraConfig config) {
    public Adapter {
      tensors = List.copyOf(tensors);
    }
  }

  public List<DiffusersTensor> tensors(Component c) {
    return tensors.getOrDefault(c, List.of());
  }

  public Map<String, Object> config(Component c) {
    return configs.getOrDefault(c, Map.of());
  }
}
