package org.sat2diffusers.pipeline.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.pipeline.run.DryRun;
import org.sat2diffusers.transforms.convert.CheckpointPlan;
import org.sat2diffusers.transforms.shard.PlannedShard;
import org.sat2diffusers.transforms.parallel.ReplicatedTensor;
import org.sat2diffusers.transforms.records.LoraGroup;
import org.sat2diffusers.transforms.records.Component;
import org.sat2diffusers.transforms.records.Disposition;
import org.sat2diffusers.transforms.records.OutputTensor;

/** A dry run's plans, for a person (text) and for tools (JSON). */
final class PlanPrinter {
  /** The check on model-parallel replicas, as the plan names it. */
  static final String REPLICAS = "every tensor held in full by each model-parallel rank is equal in all ranks";

  private PlanPrinter() {}

  static void print(List<DryRun.Planned> plans, boolean verbose, PrintWriter out) {
    for (DryRun.Planned p : plans) {
      out.printf("%s (iteration %s) -> %s%n", p.job().source(), p.job().iteration(), p.job().outputDir());
      if (!p.ok()) {
        out.printf("  cannot convert: %s%n", p.error());
        continue;
      }
      CheckpointPlan plan = p.plan();
      out.printf("  model: %s (%s)%n", plan.detection().family().displayName(), plan.detection().reason());
      for (Component c : plan.mapping().components()) {
        List<OutputTensor> tensors = plan.mapping().outputs(c);
        out.printf("  %s: %d tensors, %,d bytes%n", c.folder(), tensors.size(),
            tensors.stream().mapToLong(OutputTensor::byteLength).sum());
        for (PlannedShard s : plan.shards()) {
          if (s.component() == c) {
            out.printf("    %s  (%d tensors, %,d bytes)%n", s.relativePath(), s.tensors().size(), s.bytes());
          }
        }
      }
      printLora(plan.mapping().loraGroups(), verbose, out);
      for (Disposition d : plan.mapping().dispositions()) {
        if (d.fate() == Disposition.Fate.DROPPED) {
          out.printf("  dropped %s: %s%n", d.sourceKey(), d.rule());
        }
      }
      for (String key : plan.mapping().unroutedKeys()) {
        out.printf("  unknown key (no component takes it): %s%n", key);
      }
      if (!plan.replicaChecks().isEmpty()) {
        out.printf("  the conversion will still check (it needs tensor bytes, which a dry run does not read): %s%n",
            REPLICAS + " (" + plan.replicaChecks().size() + " tensors)");
      }
    }
    out.flush();
  }

  private static void printLora(List<LoraGroup> groups, boolean verbose, PrintWriter out) {
    if (groups.isEmpty()) {
      return;
    }
    Map<String, Integer> kinds = new LinkedHashMap<>();
    for (LoraGroup g : groups) {
      kinds.merge("r=" + g.rank() + " alpha=" + g.alpha() + " scale=" + g.scale(), 1, Integer::sum);
      if (verbose) {
        out.printf("    LoRA %s: r=%d alpha=%s scale=%s parts=%d%n", g.module(), g.rank(), g.alpha(), g.scale(), g.parts());
      }
    }
    kinds.forEach((k, n) -> out.printf("  LoRA merged: %d modules, %s%n", n, k));
  }

  /**
   * The plans as JSON: per checkpoint its source, output, the planned report (or its error), and the
   * checks the conversion still makes because they need tensor bytes.
   */
  static String json(List<DryRun.Planned> plans) throws Exception {
    List<Object> list = new ArrayList<>();
    for (DryRun.Planned p : plans) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("source", p.job().source());
      m.put("iteration", p.job().iteration());
      m.put("output", p.job().outputDir());
      if (p.ok()) {
        m.put("plan", p.plan().report());
        List<Object> pending = new ArrayList<>();
        if (!p.plan().replicaChecks().isEmpty()) {
          Map<String, Object> check = new LinkedHashMap<>();
          check.put("check", REPLICAS);
          check.put("tensors", p.plan().replicaChecks().stream().map(ReplicatedTensor::key).toList());
          pending.add(check);
        }
        m.put("checks_the_conversion_still_makes", pending);
      } else {
        m.put("error", p.error());
      }
      list.add(m);
    }
    return PythonJson.dumps(Map.of("checkpoints", list), false) + "\n";
  }
}
