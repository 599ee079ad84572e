package org.sat2diffusers.transforms.config;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sat2diffusers.transforms.model.ModelFamily;
import org.sat2diffusers.transforms.plan.Component;

/**
 * The pipeline folder's {@code model_index.json}. Components the folder has name their library
 * and class; the others (the tokenizer, never converted, and any component the checkpoint lacks)
 * are {@code [null, null]}, as Diffusers writes for a pipeline saved without them: loading then
 * gives None for them instead of failing on a missing folder, and the caller passes them in
 * (e.g. {@code tokenizer=T5Tokenizer.from_pretrained(...)}).
 */
public final class ModelIndex {
  private ModelIndex() {}

  /** {@code present}: the components written next to it; the scheduler config is always written. */
  public static Map<String, Object> build(ModelFamily family, Set<Component> present) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("scheduler", List.of("diffusers", SchedulerConfig.CLASS_NAME));
    f.put("tokenizer", absent());
    f.put("transformer", entry(present, Component.TRANSFORMER, "diffusers", TransformerConfigInference.CLASS_NAME));
    f.put("vae", entry(present, Component.VAE, "diffusers", VaeConfigInference.CLASS_NAME));
    f.put("text_encoder", entry(present, Component.TEXT_ENCODER, "transformers", "T5EncoderModel"));
    return SavedConfig.diffusers(
        family.imageToVideo() ? "CogVideoXImageToVideoPipeline" : "CogVideoXPipeline", f);
  }

  private static List<String> entry(Set<Component> present, Component c, String library, String className) {
    return present.contains(c) ? List.of(library, className) : absent();
  }

  private static List<String> absent() {
    return Arrays.asList(null, null);
  }
}
