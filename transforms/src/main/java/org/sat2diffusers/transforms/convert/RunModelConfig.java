package org.sat2diffusers.transforms.convert;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.transforms.model.ModelFamily;

/** The {@code model_config.json} of a SAT run: its {@code variant} field names the CogVideoX family. */
final class RunModelConfig {
  private RunModelConfig() {}

  /** The family the config names, or empty (with a warning when it names something unknown or is unreadable). */
  @SuppressWarnings("unchecked")
  static Optional<ModelFamily> variant(String json, List<String> warnings) {
    Object variant;
    try {
      variant = ((Map<String, Object>) PythonJson.parse(json)).get("variant");
    } catch (Exception e) { // not JSON, or not an object
      warnings.add("the run's model_config.json is not a JSON object; ignored");
      return Optional.empty();
    }
    if (!(variant instanceof String name)) {
      return Optional.empty();
    }
    try {
      return Optional.of(ModelFamily.fromCliName(name));
    } catch (IllegalArgumentException e) {
      warnings.add("the run's model_config.json names variant '" + name + "', which is not a known family; ignored");
      return Optional.empty();
    }
  }
}
