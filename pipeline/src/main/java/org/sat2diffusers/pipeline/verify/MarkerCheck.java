package org.sat2diffusers.pipeline.verify;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.sat2diffusers.io.json.PythonJson;

/**
 * The commit marker against the report it commits: both must describe the same conversion (the
 * converter version, the source, its files' size, time and checksum, the options). An empty or
 * garbled {@code _SUCCESS} (a write cut short), or one of another conversion (other options, a
 * source of another size: an overlapping run), does not make the folder complete.
 */
final class MarkerCheck {
  /** The options both the marker and the report's provenance record, in the same form. */
  private static final List<String> OPTIONS =
      List.of("dtype", "vae_dtype", "max_shard_bytes", "model", "components", "lora_mode", "lora_fold_scale");

  private MarkerCheck() {}

  /** Every difference, each naming {@code markerPath}; empty when the marker commits this report. */
  static List<String> problems(String markerPath, String markerText, Map<?, ?> report) {
    List<String> problems = new ArrayList<>();
    if (markerText.isBlank()) {
      problems.add(markerPath + ": empty: not a commit marker (its write was cut short?)");
      return problems;
    }
    Object parsed;
    try {
      parsed = PythonJson.parse(markerText);
    } catch (Exception e) {
      parsed = null;
    }
    if (!(parsed instanceof Map<?, ?> marker) || !(marker.get("sources") instanceof List<?> sources)
        || !(marker.get("options") instanceof Map<?, ?> options) || !(marker.get("committed_at") instanceof String)) {
      problems.add(markerPath + ": not a commit marker (no JSON object with sources, options and committed_at)");
      return problems;
    }
    if (!(report.get("provenance") instanceof Map<?, ?> provenance)) {
      problems.add(markerPath + ": the report records no provenance to check it against");
      return problems;
    }
    for (String field : List.of("converter_version", "source", "iteration")) {
      same(problems, markerPath, field, marker.get(field), provenance.get(field));
    }
    List<?> recorded = provenance.get("source_files") instanceof List<?> l ? l : List.of();
    if (sources.size() != recorded.size()) {
      problems.add(markerPath + ": commits " + sources.size() + " source file(s), the report " + recorded.size());
    } else {
      for (int i = 0; i < sources.size(); i++) {
        Map<?, ?> m = sources.get(i) instanceof Map<?, ?> x ? x : Map.of();
        Map<?, ?> r = recorded.get(i) instanceof Map<?, ?> x ? x : Map.of();
        String which = "source file " + r.get("path");
        same(problems, markerPath, which + " path", m.get("path"), r.get("path"));
        same(problems, markerPath, which + " size", m.get("size"), r.get("size"));
        same(problems, markerPath, which + " last_modified_ms", m.get("last_modified_ms"), r.get("last_modified_ms"));
        same(problems, markerPath, which + " checksum", emptyIfNull(m.get("checksum")), emptyIfNull(r.get("checksum")));
      }
    }
    Map<?, ?> reportOptions = provenance.get("options") instanceof Map<?, ?> o ? o : Map.of();
    for (String option : OPTIONS) {
      if (options.containsKey(option) && reportOptions.containsKey(option)) {
        same(problems, markerPath, "option " + option, options.get(option), reportOptions.get(option));
      }
    }
    return problems;
  }

  private static void same(List<String> problems, String markerPath, String what, Object marker, Object report) {
    if (!Objects.equals(normal(marker), normal(report))) {
      problems.add(markerPath + ": " + what + " is " + marker + ", the report says " + report
          + " (a marker of another conversion?)");
    }
  }

  /** JSON numbers compare by value (1000 read as a long or a double). */
  private static Object normal(Object value) {
    return value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) ? (Object) n.longValue()
        : value instanceof Number n ? (Object) n.doubleValue() : value;
  }

  private static Object emptyIfNull(Object value) {
    return value == null ? "" : value;
  }
}
