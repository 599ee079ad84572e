package org.sat2diffusers.pipeline.runner;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.List;
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

  @Option(names = "--runner", defaultValue = "direct", paramLabel = "direct|spark",
      description = "direct: Beam's embedded runner, in this JVM. spark: Beam's Spark runner on --spark-master."
          + " Default: ${DEFAULT-VALUE}.")
  RunnerChoice runner;

  @Option(names = "--spark-master", paramLabel = "local[N]|spark://HOST:PORT", converter = SparkMasters.Converter.class,
      description = "With --runner spark: local[N] runs Spark embedded with N threads, spark://HOST:PORT"
          + " submits to a standalone cluster (this jar is shipped to its executors). Under spark-submit,"
          + " its --master is used. Default: ${DEFAULT-VALUE} (N = available processors).")
  String sparkMaster = SparkMasters.localWithAllProcessors();

  /** The options for {@code Pipeline.create}, for the chosen runner. */
  public PipelineOptions pipelineOptions() {
    if (runner == RunnerChoice.direct) {
      PipelineOptions options = PipelineOptionsFactory.create();
      options.setRunner(DirectRunner.class);
      return options;
    }
    SparkPipelineOptions options = PipelineOptionsFactory.as(SparkPipelineOptions.class);
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
    return runner == RunnerChoice.direct || SparkMasters.isLocal(effectiveSparkMaster());
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
