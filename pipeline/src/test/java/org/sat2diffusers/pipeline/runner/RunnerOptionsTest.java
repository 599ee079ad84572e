package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.spark.SparkPipelineOptions;
import org.apache.beam.runners.spark.SparkRunner;
import org.apache.beam.sdk.options.PipelineOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

class RunnerOptionsTest {
  @Command(name = "probe", mixinStandardHelpOptions = true)
  static final class Probe implements Runnable {
    @Mixin RunnerOptions runner;

    @Override
    public void run() {}
  }

  private final Probe probe = new Probe();
  private final CommandLine cli = new CommandLine(probe);
  private final StringWriter err = new StringWriter();

  @AfterEach
  void forgetSparkSubmit() {
    System.clearProperty(RunnerOptions.SUBMITTED_MASTER_PROPERTY);
  }

  private PipelineOptions parse(String... args) {
    cli.parseArgs(args);
    return probe.runner.pipelineOptions();
  }

  @Test
  void directIsTheDefault() {
    PipelineOptions options = parse();
    assertEquals(DirectRunner.class, options.getRunner());
  }

  @Test
  void directRunnerUsesOneThreadPerCheckpointUpToTheCoresAndSkipsItsTestingChecks() {
    PipelineOptions local = parse();
    probe.runner.tuneDirectRunner(local, true, 1);
    DirectOptions direct = local.as(DirectOptions.class);
    assertEquals(1, direct.getTargetParallelism(), "one checkpoint: one runner thread");
    assertFalse(direct.isEnforceImmutability());
    assertFalse(direct.isEnforceEncodability());

    PipelineOptions several = parse();
    probe.runner.tuneDirectRunner(several, true, 10);
    int cores = Runtime.getRuntime().availableProcessors();
    assertEquals(Math.min(10, cores), several.as(DirectOptions.class).getTargetParallelism(), "ten: a shard per core");

    PipelineOptions oneStream = parse();
    int beamDefault = oneStream.as(DirectOptions.class).getTargetParallelism();
    probe.runner.tuneDirectRunner(oneStream, false, 10);
    assertEquals(beamDefault, oneStream.as(DirectOptions.class).getTargetParallelism(),
        "hdfs://... outputs (one stream per shard) keep Beam's threads");
  }

  @Test
  void beamOptionsWinOverTheDirectRunnerTuning() {
    PipelineOptions options = parse("--beam-option", "targetParallelism=3", "--beam-option", "enforceEncodability=true");
    probe.runner.tuneDirectRunner(options, true, 10);
    assertEquals(3, options.as(DirectOptions.class).getTargetParallelism());
    assertTrue(options.as(DirectOptions.class).isEnforceEncodability());
    assertFalse(options.as(DirectOptions.class).isEnforceImmutability());
  }

  @Test
  void sparkRunsEmbeddedOnAllProcessorsByDefault() {
    SparkPipelineOptions options = parse("--runner", "spark").as(SparkPipelineOptions.class);
    assertEquals(SparkRunner.class, options.getRunner());
    assertEquals("local[" + Runtime.getRuntime().availableProcessors() + "]", options.getSparkMaster());
    assertNull(options.getFilesToStage(), "nothing to ship when Spark runs embedded");
  }

  @Test
  void sparkMasterIsPassedOn() {
    assertEquals("local[2]", parse("--runner", "spark", "--spark-master", "local[2]").as(SparkPipelineOptions.class).getSparkMaster());
    assertEquals(
        "spark://10.0.0.5:7077",
        parse("--runner", "spark", "--spark-master", "spark://10.0.0.5:7077").as(SparkPipelineOptions.class).getSparkMaster());
  }

  @Test
  void unknownMasterIsAUsageError() {
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute("--runner", "spark", "--spark-master", "yarn");
    assertEquals(2, exit);
    assertTrue(err.toString().contains("'yarn' is not a Spark master"), err.toString());
  }

  @Test
  void unknownRunnerIsAUsageError() {
    cli.setErr(new PrintWriter(err, true));
    assertEquals(2, cli.execute("--runner", "flink"));
    assertTrue(err.toString().contains("--runner"), err.toString());
  }

  @Test
  void dataflowWithoutTheDataflowBuildSaysHowToGetIt() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> parse("--runner", "dataflow", "--beam-option", "project=p", "--beam-option", "region=r"));
    assertTrue(e.getMessage().contains("-Pdataflow"), e.getMessage());
  }

  @Test
  void beamOptionsReachTheRunnersOptions() {
    PipelineOptions options = parse("--beam-option", "tempLocation=/shared/tmp", "--beam-option", "jobName=nightly");
    assertEquals("/shared/tmp", options.getTempLocation());
    assertEquals("nightly", options.getJobName());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse("--beam-option", "oops"));
    assertTrue(e.getMessage().contains("NAME=VALUE"), e.getMessage());
  }

  @Test
  void underSparkSubmitItsMasterIsUsed() {
    System.setProperty(RunnerOptions.SUBMITTED_MASTER_PROPERTY, "spark://127.0.0.1:7077");
    assertEquals("spark://127.0.0.1:7077", parse("--runner", "spark").as(SparkPipelineOptions.class).getSparkMaster());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> parse("--runner", "spark", "--spark-master", "local[2]"));
    assertTrue(e.getMessage().contains("contradicts spark-submit's --master spark://127.0.0.1:7077"), e.getMessage());
  }

  @Test
  void helpDocumentsBothOptions() {
    String help = cli.getUsageMessage();
    assertTrue(help.contains("--runner=direct|spark|dataflow"), help);
    assertTrue(help.contains("--spark-master=local[N]|spark://HOST:PORT"), help);
    assertTrue(help.contains("Default: local[" + Runtime.getRuntime().availableProcessors() + "]"), help);
  }
}
