package org.sat2diffusers.pipeline.steps;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.pipeline.records.CheckpointOutcome;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Stage;
import org.sat2diffusers.pipeline.records.CheckpointOutcome.Status;

/** The run log: every checkpoint's outcome, as JSON a person (or a nightly job's history) can read. */
public final class RunLog {
  private RunLog() {}

  static String toJson(List<CheckpointOutcome> outcomes) {
    List<Object> list = new ArrayList<>();
    outcomes.stream().sorted(Comparator.comparing(CheckpointOutcome::checkpointId)).forEach(o -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("checkpoint", o.checkpointId());
      m.put("status", o.status().name());
      m.put("stage", o.stage().name());
      m.put("message", o.message());
      m.put("tensors", o.tensors());
      m.put("bytes_written", o.bytesWritten());
      list.add(m);
    });
    return PythonJson.dumps(Map.of("outcomes", list), false) + "\n";
  }

  @SuppressWarnings("unchecked")
  public static List<CheckpointOutcome> fromJson(String json) throws Exception {
    Map<String, Object> root = (Map<String, Object>) PythonJson.parse(json);
    List<CheckpointOutcome> out = new ArrayList<>();
    for (Object o : (List<Object>) root.get("outcomes")) {
      Map<String, Object> m = (Map<String, Object>) o;
      out.add(new CheckpointOutcome(
          (String) m.get("checkpoint"),
          Status.valueOf((String) m.get("status")),
          Stage.valueOf((String) m.get("stage")),
          (String) m.get("message"),
          ((Number) m.get("tensors")).longValue(),
          ((Number) m.get("bytes_written")).longValue()));
    }
    return out;
  }
}
