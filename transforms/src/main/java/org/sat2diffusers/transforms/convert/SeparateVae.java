package org.sat2diffusers.transforms.convert;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.SourcePart;
import org.sat2diffusers.transforms.records.SourceTensor;
import org.sat2diffusers.transforms.route.ComponentRouter;
import org.sat2diffusers.transforms.route.RoutedTensor;

/**
 * A VAE given as a file of its own beside a transformer checkpoint ({@code --vae}, the published
 * converter's {@code --vae_ckpt_path}). The two make one pipeline only when the file holds a VAE and
 * nothing else and the checkpoint holds a transformer and no VAE of its own: otherwise one of them
 * would be silently left out or preferred. Routing decides, as it does for the conversion.
 */
public final class SeparateVae {
  private SeparateVae() {}

  /**
   * @param source the path the user named, for messages
   * @param vaeFile the file given as the VAE, one of {@code files}
   * @param parts every part of the job: the checkpoint's, then the VAE file
   * @throws IllegalArgumentException naming the file and what it holds instead
   */
  public static void check(String source, String vaeFile, List<SourcePart> parts) {
    List<SourceTensor> tensors = new ArrayList<>();
    for (SourcePart part : parts) {
      tensors.addAll(part.sourceTensors());
    }
    Set<Component> checkpointHolds = EnumSet.noneOf(Component.class);
    int vaeTensors = 0;
    List<String> notVae = new ArrayList<>();
    for (RoutedTensor r : ComponentRouter.route(tensors)) {
      if (!r.source().file().equals(vaeFile)) {
        if (r.routed()) {
          checkpointHolds.add(r.component());
        }
      } else if (r.component() == Component.VAE) {
        vaeTensors++;
      } else {
        notVae.add("'" + r.source().key() + "'" + (r.routed() ? " (" + r.component().folder() + ")" : ""));
      }
    }
    if (!notVae.isEmpty()) {
      throw new IllegalArgumentException("--vae " + vaeFile + " holds " + (vaeTensors == 0 ? "no VAE" : "more than a VAE")
          + ": " + notVae.size() + " of its tensors are not a VAE's, e.g. " + notVae.get(0)
          + "; give a VAE checkpoint (the released vae/3d-vae.pt: encoder.*, decoder.*; or first_stage_model.* keys)");
    }
    if (vaeTensors == 0) {
      throw new IllegalArgumentException("--vae " + vaeFile + " holds no tensors");
    }
    if (!checkpointHolds.contains(Component.TRANSFORMER)) {
      throw new IllegalArgumentException(source + " holds no transformer (" + (checkpointHolds.isEmpty() ? "no component"
          : "only " + names(checkpointHolds)) + "): --vae " + vaeFile + " is converted with the transformer of the"
          + " source, so the source must be a transformer checkpoint");
    }
    if (checkpointHolds.contains(Component.VAE)) {
      throw new IllegalArgumentException(source + " holds a VAE of its own (first_stage_model.* or a vae/ file) and --vae "
          + vaeFile + " another: leave out --vae to convert the checkpoint's own");
    }
  }

  private static String names(Set<Component> components) {
    return String.join(", ", components.stream().map(Component::folder).toList());
  }
}
