package org.sat2diffusers.io.deepspeed;

import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.sat2diffusers.io.deepspeed.ZeroCheckpointException.Problem;
import org.sat2diffusers.io.pickle.InertObject;
import org.sat2diffusers.io.pickle.PickleGlobal;
import org.sat2diffusers.io.pickle.PickleReader;

/** Typed access to the plain data of a DeepSpeed pickle, each mismatch an error naming the file and entry. */
final class PickledData {
  /**
   * The classes DeepSpeed's checkpoints name, kept as inert data (their objects are never built):
   * ZeroStageEnum (pickled as {@code ZeroStageEnum(2)} or as {@code getattr(ZeroStageEnum,
   * 'gradients')}), the loss scalers, the fragment addresses of {@code param_slice_mappings}, and
   * the torch dtypes a DynamicLossScaler holds.
   */
  static final Set<String> ALLOWED_CLASSES = Set.of(
      "deepspeed.runtime.zero.config.ZeroStageEnum",
      "deepspeed.runtime.fp16.loss_scaler.LossScaler",
      "deepspeed.runtime.fp16.loss_scaler.DynamicLossScaler",
      "deepspeed.utils.tensor_fragment.fragment_address",
      "torch.float16", "torch.bfloat16", "torch.float32");

  private static final String ZERO_STAGE_ENUM = "deepspeed.runtime.zero.config.ZeroStageEnum";
  /** deepspeed/runtime/zero/config.py class ZeroStageEnum: member names by stage. */
  private static final List<String> ZERO_STAGES = List.of("disabled", "optimizer_states", "gradients", "weights");
  private static final int MAX_NESTING = 64;

  private PickledData() {}

  static Map<?, ?> map(String file, String what, Object value) throws ZeroCheckpointException {
    if (value instanceof Map<?, ?> map) {
      return map;
    }
    throw malformed(file, what + " should be a dict, but is " + PickleReader.describe(value));
  }

  static List<?> list(String file, String what, Object value) throws ZeroCheckpointException {
    if (value instanceof List<?> list) {
      return list;
    }
    throw malformed(file, what + " should be a list, but is " + PickleReader.describe(value));
  }

  static Object require(String file, Map<?, ?> map, String key, String where) throws ZeroCheckpointException {
    if (!map.containsKey(key)) {
      throw malformed(file, where + " has no '" + key + "' entry");
    }
    return map.get(key);
  }

  static long longValue(String file, String what, Object value) throws ZeroCheckpointException {
    if (value instanceof Long n) {
      return n;
    }
    throw malformed(file, what + " should be an int, but is " + PickleReader.describe(value));
  }

  /** A torch.Size (a list once unpickled) of non-negative ints. */
  static List<Long> shape(String file, String what, Object value) throws ZeroCheckpointException {
    List<Long> shape = new ArrayList<>();
    for (Object size : list(file, what, value)) {
      if (!(size instanceof Long n) || n < 0) {
        throw malformed(file, what + " should be a shape of non-negative ints, but holds " + PickleReader.describe(size));
      }
      shape.add(n);
    }
    return shape;
  }

  /** An ordered {name: torch.Size} dict, e.g. one group of {@code param_shapes}. */
  static Map<String, List<Long>> shapes(String file, String what, Object value) throws ZeroCheckpointException {
    Map<String, List<Long>> shapes = new LinkedHashMap<>();
    for (Map.Entry<?, ?> entry : map(file, what, value).entrySet()) {
      if (!(entry.getKey() instanceof String name)) {
        throw malformed(file, what + " has a key " + PickleReader.describe(entry.getKey()) + " that is not a name");
      }
      shapes.put(name, shape(file, what + "['" + name + "']", entry.getValue()));
    }
    return shapes;
  }

  /**
   * The ZeRO stage, however it was pickled: an int, {@code ZeroStageEnum(2)} (Python <= 3.10 and
   * >= 3.11.5) or {@code getattr(ZeroStageEnum, 'gradients')} (Python 3.11.0-3.11.4).
   */
  static int zeroStage(String file, Object value) throws ZeroCheckpointException {
    if (value instanceof Long n) {
      return n.intValue();
    }
    if (value instanceof InertObject enumValue && enumValue.typeName().equals(ZERO_STAGE_ENUM)
        && enumValue.args().size() == 1 && enumValue.args().get(0) instanceof Long n) {
      return n.intValue();
    }
    if (value instanceof PickleGlobal member && member.qualifiedName().startsWith(ZERO_STAGE_ENUM + ".")) {
      int stage = ZERO_STAGES.indexOf(member.qualifiedName().substring(ZERO_STAGE_ENUM.length() + 1));
      if (stage >= 0) {
        return stage;
      }
    }
    throw malformed(file, "zero_stage should be a ZeroStageEnum, but is " + PickleReader.describe(value));
  }

  /** Refuses any object in {@code value} whose class is not in {@link #ALLOWED_CLASSES}. */
  static void checkAllowed(String file, String where, Object value) throws ZeroCheckpointException {
    checkAllowed(file, where, value, new IdentityHashMap<>(), 0);
  }

  private static void checkAllowed(String file, String where, Object value, Map<Object, Boolean> seen, int depth)
      throws ZeroCheckpointException {
    if (depth > MAX_NESTING) {
      throw malformed(file, where + " is nested more than " + MAX_NESTING + " levels deep");
    }
    if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean
        || seen.put(value, Boolean.TRUE) != null) {
      return;
    }
    if (value instanceof PickleGlobal global) {
      String name = global.qualifiedName();
      boolean enumMember = name.startsWith(ZERO_STAGE_ENUM + ".");
      if (!enumMember && !ALLOWED_CLASSES.contains(name)) {
        throw malformed(file, where + " names " + name + ", which is not a class DeepSpeed checkpoints hold");
      }
    } else if (value instanceof InertObject object) {
      checkAllowed(file, where, object.callable(), seen, depth + 1);
      checkAllowed(file, where + "(args)", object.args(), seen, depth + 1);
      checkAllowed(file, where + "(state)", object.state(), seen, depth + 1);
      checkAllowed(file, where + "(items)", object.items(), seen, depth + 1);
      checkAllowed(file, where + "(entries)", object.entries(), seen, depth + 1);
    } else if (value instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        String child = where + "[" + entry.getKey() + "]";
        checkAllowed(file, child, entry.getKey(), seen, depth + 1);
        checkAllowed(file, child, entry.getValue(), seen, depth + 1);
      }
    } else if (value instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        checkAllowed(file, where + "[" + i++ + "]", item, seen, depth + 1);
      }
    }
  }

  static ZeroCheckpointException malformed(String file, String detail) {
    return new ZeroCheckpointException(Problem.MALFORMED, file, detail);
  }
}
