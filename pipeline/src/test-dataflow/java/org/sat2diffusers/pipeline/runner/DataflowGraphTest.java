package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.runners.dataflow.DataflowRunner;
import org.apache.beam.runners.dataflow.options.DataflowPipelineOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.junit.jupiter.api.Test;
import org.sat2diffusers.pipeline.run.ConversionPipeline;
import org.sat2diffusers.pipeline.records.CheckpointJob;
import org.sat2diffusers.transforms.convert.ConversionSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Dataflow cannot run here (no Google Cloud), so this checks what can be checked without it, in the
 * build with -Pdataflow: the command line's options become valid Dataflow options, and the whole
 * conversion graph builds for them.
 */
class DataflowGraphTest {
  @Command(name = "probe")
  static final class Probe implements Runnable {
    @Mixin RunnerOptions runner;

    @Override
    public void run() {}
  }

  @Test
  void optionsParseAndTheConversionGraphBuilds() {
    Probe probe = new Probe();
    new CommandLine(probe).parseArgs("--runner", "dataflow", "--beam-option", "project=ml-platform",
        "--beam-option", "region=europe-west4", "--beam-option", "tempLocation=gs://ml-platform-tmp/sat2diffusers",
        "--beam-option", "workerMachineType=n2-highmem-4",
        // what Dataflow would otherwise derive by asking Google Cloud Storage (unreachable here)
        "--beam-option", "gcpTempLocation=gs://ml-platform-tmp/sat2diffusers",
        "--beam-option", "stagingLocation=gs://ml-platform-tmp/sat2diffusers/staging",
        "--beam-option", "pathValidatorClass=org.apache.beam.sdk.extensions.gcp.storage.NoopPathValidator",
        "--beam-option", "credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory");
    DataflowPipelineOptions options = probe.runner.pipelineOptions().as(DataflowPipelineOptions.class);
    assertEquals(DataflowRunner.class, options.getRunner());
    assertEquals("ml-platform", options.getProject());
    assertEquals("europe-west4", options.getRegion());
    assertEquals("n2-highmem-4", options.getWorkerMachineType());
    assertTrue(!probe.runner.workersAreLocal(), "Dataflow workers are remote: the run log must go to shared storage");

    CheckpointJob job = new CheckpointJob("gs://out/sft", "gs://runs/sft", "1000",
        List.of("gs://runs/sft/1000/mp_rank_00_model_states.pt"), "gs://out/sft", ConversionSettings.defaults(),
        "gs://runs/sft", null);
    Pipeline pipeline = ConversionPipeline.build(options, List.of(job), "gs://ml-platform-tmp/sat2diffusers/run.json");
    List<String> steps = new ArrayList<>();
    pipeline.traverseTopologically(new Pipeline.PipelineVisitor.Defaults() {
      @Override
      public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
        steps.add(node.getFullName());
        return CompositeBehavior.ENTER_TRANSFORM;
      }
    });
    for (String step : List.of("Index checkpoint files", "Plan conversions", "Write shards", "Finalize checkpoints",
        "Summarize run")) {
      assertTrue(steps.contains(step), step + " missing from " + steps);
    }
  }
}
