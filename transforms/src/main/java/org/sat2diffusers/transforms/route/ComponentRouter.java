package org.sat2diffusers.transforms.route;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.KeyNames;
import org.sat2diffusers.transforms.records.SourceTensor;

/**
 * Sends each source key to its Diffusers component by prefix (DESIGN.md section 4). The published
 * converter slices the prefix off without checking it; here a key either carries a known prefix or
 * is dropped with a reason.
 */
public final class ComponentRouter {
  /** Prefix of a full SAT checkpoint's keys, and the component they belong to. Order matters not: prefixes are disjoint. */
  private static final Map<String, Component> PREFIXES = Map.of(
      "model.diffusion_model.", Component.TRANSFORMER,
      "first_stage_model.", Component.VAE,
      "conditioner.embedders.0.transformer.", Component.TEXT_ENCODER);

  /** The top-level modules of the released VAE file ({@code vae/3d-vae.pt}), which has no prefix. */
  private static final List<String> BARE_VAE_PREFIXES = List.of("encoder.", "decoder.", "loss.");

  static final String UNKNOWN_PREFIX =
      "drop: no component (not model.diffusion_model., first_stage_model. or conditioner.embedders.0.transformer.)";

  private ComponentRouter() {}

  /**
   * Routes every tensor, keeping input order. A file whose SAT keys all sit under encoder./decoder./loss.
   * is a bare VAE; Diffusers transformer names are the transformer's, as they are.
   */
  public static List<RoutedTensor> route(List<SourceTensor> tensors) {
    Map<String, Boolean> bareVae = new LinkedHashMap<>();
    for (SourceTensor t : tensors) {
      if (t.names() == KeyNames.SAT) {
        bareVae.merge(t.file(), isBareVaeKey(t.key()), Boolean::logicalAnd);
      }
    }
    List<RoutedTensor> out = new ArrayList<>(tensors.size());
    for (SourceTensor t : tensors) {
      out.add(route(t, bareVae.get(t.file())));
    }
    return out;
  }

  private static RoutedTensor route(SourceTensor t, Boolean inBareVaeFile) {
    if (t.names() == KeyNames.DIFFUSERS_TRANSFORMER) {
      return new RoutedTensor(t, Component.TRANSFORMER, t.key(), null);
    }
    if (inBareVaeFile) {
      return new RoutedTensor(t, Component.VAE, t.key(), null);
    }
    for (Map.Entry<String, Component> e : PREFIXES.entrySet()) {
      if (t.key().startsWith(e.getKey()) && t.key().length() > e.getKey().length()) {
        return new RoutedTensor(t, e.getValue(), t.key().substring(e.getKey().length()), null);
      }
    }
    return new RoutedTensor(t, null, null, UNKNOWN_PREFIX);
  }

  /** The prefix a full SAT checkpoint gives the keys of {@code component} (what the way back puts in front). */
  public static String satPrefix(Component component) {
    return PREFIXES.entrySet().stream().filter(e -> e.getValue() == component).map(Map.Entry::getKey)
        .findFirst().orElseThrow();
  }

  private static boolean isBareVaeKey(String key) {
    return BARE_VAE_PREFIXES.stream().anyMatch(key::startsWith);
  }
}
