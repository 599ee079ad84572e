package org.sat2diffusers.pipeline.runner;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The SparkRunner, embedded with two threads, writes exactly what the DirectRunner writes: SAT runs, and
 * training outputs read as recipes (ZeRO fp32 masters, SAT z3 ranks).
 */
class SparkLocalRunnerTest {
  static List<Fixtures.Case> cases() {
    List<Fixtures.Case> cases = new ArrayList<>(Fixtures.cases());
    cases.addAll(Fixtures.trainingOutputs());
    return cases;
  }

  @ParameterizedTest
  @MethodSource("cases")
  void sparkLocalWritesTheDirectRunnersBytes(Fixtures.Case fixture, @TempDir Path work) {
    Path direct = work.resolve("direct");
    Path spark = work.resolve("spark");
    InProcessCli.convert(fixture.args(), direct, "--runner", "direct");
    InProcessCli.convert(fixture.args(), spark, "--runner", "spark", "--spark-master", "local[2]");
    OutputTrees.assertSameOutput(direct, spark);
  }
}
