package org.sat2diffusers.pipeline.runner;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.spark.SparkPipelineOptions;
import org.apache.beam.runners.spark.SparkRunner;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The picocli mixin that chooses the Beam runner ({@code --runner}, {@code --spark-master}) and
 * turns the choice into {@link PipelineOptions}.
 */
public final class RunnerOptions {
  /** Set by spark-submit in the driver JVM; Spark's own configuration then wins over ours. */
  static final String SUBMITTED_MASTER_PROPERTY = "spark.master";

  @Spec(Spec.Target.MIXEE) CommandSpec command;

  @Option(names = "--runner", defaultValue = "direct", paramLabel = "direct|spark|dataflow",
      description = "direct: Beam's embedded runner, in this JVM. spark: Beam's Spark runner on --spark-master."
          + " dataflow: Google Cloud Dataflow (a build with -Pdataflow; set project, region and tempLocation"
          + " with --beam-option). Default: ${DEFAULT-VALUE}.")
  RunnerChoice runner;

  @Option(names = "--beam-option", paramLabel = "NAME=VALUE",
      description = "Any Beam pipeline option for the runner, e.g. --beam-option project=my-project"
          + " --beam-option region=europe-west4 --beam-option tempLocation=gs://bucket/tmp. Repeatable.")
  List<String> beamOptions = new ArrayList<>();

  @Option(names = "--spark-master", paramLabel = "local[N]|spark://HOST:PORT", converter = SparkMasters.Converter.class,
      description = "With --runner spark: local[N] runs Spark embedded with N threads, spark://HOST:PORT"
          + " submits to a standalone cluster (this jar is shipped to its executors). Under spark-submit,"
          + " its --master is used. Default: ${DEFAULT-VALUE} (N = available processors).")
  String sparkMaster = SparkMasters.localWithAllProcessors();

  /** The options for {@code Pipeline.create}, for the chosen runner. */
  public PipelineOptions pipelineOptions() {
    if (runner == RunnerChoice.dataflow) {
      return dataflowOptions();
    }
    if (runner == RunnerChoice.direct) {
      PipelineOptions options = beamOptions();
      options.setRunner(DirectRunner.class);
      return options;
    }
    SparkPipelineOptions options = beamOptions().as(SparkPipelineOptions.class);
    options.setRunner(SparkRunner.class);
    options.setAppName("sat2diffusers");
    String master = effectiveSparkMaster();
    options.setSparkMaster(master);
    Path ownJar = ownJar();
    if (!SparkMasters.isLocal(master) && ownJar != null) {
      // the executors need exactly this jar (a cluster has Spark); Beam's default, a scan of the
      // driver's classpath, would ship whatever else that holds
      options.setFilesToStage(List.of(ownJar.toString()));
    }
    return options;
  }

  /**
   * Tunes the DirectRunner for a run of {@code checkpoints} checkpoints. Its scheduler runs on the
   * runner's own threads and submits itself again at once whenever it finishes: while fewer bundles
   * run than the runner has threads, one of them spins on it, a core taken from copying, hashing and
   * (S3) the store's own work on a small machine (an S3 to S3 conversion of 3.4 GB on two cores: 60 s
   * of CPU with Beam's three threads, 18 s with one; a 3.4 GB to-sat: 11-20 s of CPU, 3.5 s with one).
   * Where a checkpoint needs no more than one runner thread ({@code threadPerCheckpoint}: its shards
   * written by several threads of our own, local files and S3 multipart uploads, or its whole output
   * one bundle, to-sat), one runner thread per checkpoint, up to one per core, keeps every core busy
   * and leaves the scheduler waiting in the queue: Linux serializes the writes into one file, so only
   * shards written side by side keep every core copying (ten 3.4 GB checkpoints on two cores: 48-54 s
   * with one runner thread, 30-34 s with two, as fast as cp). Shards written through one stream each
   * (HDFS), one bundle per shard, keep Beam's default. Its checks that every element survives encoding
   * and is never mutated are for testing pipelines: they encode every record again at each step (the
   * Spark runner, tested too, really encodes them). {@code --beam-option} wins.
   */
  public void tuneDirectRunner(PipelineOptions options, boolean threadPerCheckpoint, int checkpoints) {
    if (runner != RunnerChoice.direct) {
      return;
    }
    DirectOptions direct = options.as(DirectOptions.class);
    if (threadPerCheckpoint && !beamOptionGiven("targetParallelism")) {
      direct.setTargetParallelism(Math.max(1, Math.min(checkpoints, Runtime.getRuntime().availableProcessors())));
    }
    if (!beamOptionGiven("enforceImmutability")) {
      direct.setEnforceImmutability(false);
    }
    if (!beamOptionGiven("enforceEncodability")) {
      direct.setEnforceEncodability(false);
    }
  }

  private boolean beamOptionGiven(String name) {
    return beamOptions.stream().anyMatch(o -> o.startsWith(name + "="));
  }

  /** The --beam-option values, parsed by Beam (unknown names and bad values are its usage errors). */
  private PipelineOptions beamOptions() {
    if (runner == RunnerChoice.spark) {
      // the jar registers only what every run needs (pipeline/pom.xml): Spark's names on demand
      PipelineOptionsFactory.register(SparkPipelineOptions.class);
    }
    return PipelineOptionsFactory.fromArgs(beamOptionArgs(beamOptions)).create();
  }

  /**
   * Dataflow options by runner name: the runner registers itself only in a build with the Dataflow
   * profile, so this module needs no compile-time dependency on it.
   */
  private PipelineOptions dataflowOptions() {
    List<String> args = new ArrayList<>(List.of(beamOptionArgs(beamOptions)));
    args.add(0, "--runner=DataflowRunner");
    try {
      return PipelineOptionsFactory.fromArgs(args.toArray(String[]::new)).create();
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().contains("Unknown 'runner'")) {
        throw new IllegalArgumentException("--runner dataflow needs a build with the Dataflow runner:"
            + " mvn -B -Pdataflow -DskipTests package (see deploy/dataflow/README.md)");
      }
      throw e;
    }
  }

  private static String[] beamOptionArgs(List<String> nameValues) {
    List<String> args = new ArrayList<>();
    for (String nv : nameValues) {
      if (!nv.matches("[A-Za-z][A-Za-z0-9]*=.*")) {
        throw new IllegalArgumentException("--beam-option " + nv + ": expected NAME=VALUE, e.g. project=my-project");
      }
      args.add("--" + nv);
    }
    return args.toArray(String[]::new);
  }

  private String effectiveSparkMaster() {
    String submitted = System.getProperty(SUBMITTED_MASTER_PROPERTY);
    if (submitted == null) {
      return sparkMaster;
    }
    if (sparkMasterGiven() && !sparkMaster.equals(submitted)) {
      throw new IllegalArgumentException(
          "--spark-master " + sparkMaster + " contradicts spark-submit's --master " + submitted + ": give only one");
    }
    return submitted;
  }

  /** Whether the workers run on this machine (and so share its temp folder with the driver). */
  public boolean workersAreLocal() {
    return runner == RunnerChoice.direct || runner == RunnerChoice.spark && SparkMasters.isLocal(effectiveSparkMaster());
  }

  private boolean sparkMasterGiven() {
    return command.commandLine().getParseResult().hasMatchedOption("--spark-master");
  }

  /** The jar this code runs from, or null when it runs from class folders (tests, an IDE). */
  private static Path ownJar() {
    CodeSource source = RunnerOptions.class.getProtectionDomain().getCodeSource();
    try {
      Path location = source == null ? null : Path.of(source.getLocation().toURI());
      return location != null && location.toString().endsWith(".jar") ? location : null;
    } catch (URISyntaxException e) {
      return null;
    }
  }
}
