package org.sat2diffusers.transforms.convert;

import java.util.ArrayList;
import java.util.List;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.TensorMapping;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * Output tensor names a safetensors file cannot hold, refused when the plan is made (by the dry run
 * and the conversion alike) instead of by the shard writer after other shards were written: the
 * header's own {@code __metadata__} key (a source key of that name kept with
 * {@code --unknown-keys keep}).
 */
final class WritableNames {
  static final String RESERVED = "__metadata__";

  private WritableNames() {}

  static void require(String source, TensorMapping mapping) {
    List<String> problems = new ArrayList<>();
    for (Component c : mapping.components()) {
      for (OutputTensor t : mapping.outputs(c)) {
        if (t.name().equals(RESERVED)) {
          problems.add(c.folder() + " tensor '" + t.name() + "' (from " + String.join(", ", t.sourceKeys())
              + "): safetensors reserves this name for its header metadata; --unknown-keys drop leaves it out");
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(source + ": " + String.join("; ", problems));
    }
  }
}
