package org.sat2diffusers.io.deepspeed;

import static org.sat2diffusers.io.deepspeed.PickledData.list;
import static org.sat2diffusers.io.deepspeed.PickledData.longValue;
import static org.sat2diffusers.io.deepspeed.PickledData.map;
import static org.sat2diffusers.io.deepspeed.PickledData.require;
import static org.sat2diffusers.io.deepspeed.PickledData.shapes;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.io.torch.TorchPickle;

/**
 * A DeepSpeed engine's {@code *_model_states.pt} (engine.py {@code _save_checkpoint}, v0.16.5
 * lines 3453-3494), the entries the fp32 assembly needs; tensors as records, no bytes read.
 *
 * @param file the file
 * @param module the 16-bit module's tensors by name (ZeRO-3: 0-element placeholders)
 * @param paramShapes per optimizer group, the trainable parameters' shapes in flattening order
 * @param frozenShapes the frozen parameters' shapes (empty when none)
 * @param frozenFragments the frozen parameters' 16-bit copies (ZeRO-2) or this rank's partitions (ZeRO-3)
 * @param sharedParams tied parameters: alias → the name whose value it shares
 * @param bufferNames the module's persistent buffers (kept in {@code module} whatever the stage)
 * @param dsVersion the DeepSpeed version that wrote the file
 * @param dpWorldSize the data-parallel world size the engine ran with
 * @param globalSteps the engine's step count
 */
record ModelStates(
    String file,
    Map<String, TensorRecord> module,
    List<Map<String, List<Long>>> paramShapes,
    Map<String, List<Long>> frozenShapes,
    Map<String, TensorRecord> frozenFragments,
    Map<String, String> sharedParams,
    List<String> bufferNames,
    String dsVersion,
    long dpWorldSize,
    long globalSteps) {

  static ModelStates read(String file) throws IOException {
    return TorchFiles.parse(file, "model states", (pickle, in) -> parse(file, pickle));
  }

  private static ModelStates parse(String file, TorchPickle pickle) throws IOException {
    Map<?, ?> root = map(file, "the top level", pickle.root());
    // zero_to_fp32.py parse_model_states (v0.16.5 line 107): buffer_names marks a model states file
    if (!root.containsKey("buffer_names") || !root.containsKey("param_shapes")) {
      throw PickledData.malformed(file, "not a DeepSpeed model states file: no 'buffer_names' / 'param_shapes'");
    }
    Map<String, TensorRecord> module = tensors(file, pickle, "module", require(file, root, "module", "the top level"));
    List<Map<String, List<Long>>> paramShapes = new ArrayList<>();
    List<?> groups = list(file, "param_shapes", root.get("param_shapes"));
    for (int g = 0; g < groups.size(); g++) {
      paramShapes.add(shapes(file, "param_shapes[" + g + "]", groups.get(g)));
    }
    Object frozenShapes = root.get("frozen_param_shapes");
    Object frozenFragments = root.get("frozen_param_fragments");
    Map<String, String> shared = new LinkedHashMap<>();
    Object sharedValue = root.get("shared_params");
    if (sharedValue != null) {
      for (Map.Entry<?, ?> entry : map(file, "shared_params", sharedValue).entrySet()) {
        if (!(entry.getKey() instanceof String alias) || !(entry.getValue() instanceof String name)) {
          throw PickledData.malformed(file, "shared_params should map names to names");
        }
        shared.put(alias, name);
      }
    }
    List<String> bufferNames = new ArrayList<>();
    for (Object name : list(file, "buffer_names", root.get("buffer_names"))) {
      if (!(name instanceof String s)) {
        throw PickledData.malformed(file, "buffer_names should hold names");
      }
      bufferNames.add(s);
    }
    Object version = root.get("ds_version");
    Object dp = root.get("dp_world_size");
    Object steps = root.get("global_steps");
    return new ModelStates(
        file, module, paramShapes,
        frozenShapes == null ? Map.of() : shapes(file, "frozen_param_shapes", frozenShapes),
        frozenFragments == null ? Map.of() : tensors(file, pickle, "frozen_param_fragments", frozenFragments),
        shared, bufferNames, version instanceof String s ? s : null,
        dp == null ? -1 : longValue(file, "dp_world_size", dp),
        steps == null ? -1 : longValue(file, "global_steps", steps));
  }

  private static Map<String, TensorRecord> tensors(String file, TorchPickle pickle, String what, Object value)
      throws IOException {
    Map<String, TensorRecord> tensors = new LinkedHashMap<>();
    for (Map.Entry<?, ?> entry : map(file, what, value).entrySet()) {
      if (!(entry.getKey() instanceof String name)) {
        throw PickledData.malformed(file, what + " has a key that is not a name");
      }
      tensors.put(name, pickle.tensor(name, entry.getValue()));
    }
    return tensors;
  }
}
