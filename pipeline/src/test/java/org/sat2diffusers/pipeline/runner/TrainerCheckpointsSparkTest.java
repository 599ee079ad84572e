package org.sat2diffusers.pipeline.runner;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.pipeline.testing.TestPaths;

/**
 * Issue 15: trainer checkpoints on Spark (embedded, two threads) — a ZeRO-2 trainer's two steps (its
 * fp32 masters read as byte ranges over the optimizer partitions), a DDP model.safetensors and a
 * CogKit DCP folder found under one --source-root — are written exactly as the DirectRunner writes
 * them (whose tensors TrainerCheckpointConversionTest checks against the saved ones).
 */
class TrainerCheckpointsSparkTest {
  @Test
  void sparkLocalWritesTheDirectRunnersBytes(@TempDir Path work) throws IOException {
    Path training = TestPaths.testdata().resolve("training");
    Path root = work.resolve("runs");
    TestPaths.copyTree(training.resolve("trainer/cogvideox-t2v-sft-zero2"), root.resolve("sft-zero2"));
    TestPaths.copyTree(training.resolve("trainer/cogvideox-t2v-sft-ddp"), root.resolve("sft-ddp"));
    TestPaths.copyTree(training.resolve("dcp/cogkit-t2v-sft"), root.resolve("cogkit"));
    Path direct = work.resolve("direct");
    Path spark = work.resolve("spark");
    // fp32-master applies to the DeepSpeed steps only: the other two have no optimizer partitions
    List<String> masters = List.of("--source-root", root.resolve("sft-zero2").toString(), "--iterations", "all",
        "--model", "cogvideox-2b", "--weights", "fp32-master");
    InProcessCli.convert(masters, direct.resolve("masters"), "--runner", "direct");
    InProcessCli.convert(masters, spark.resolve("masters"), "--runner", "spark", "--spark-master", "local[2]");
    OutputTrees.assertSameOutput(direct.resolve("masters"), spark.resolve("masters"));
    List<String> all = List.of("--source-root", root.toString(), "--iterations", "all", "--model", "cogvideox-2b");
    InProcessCli.convert(all, direct.resolve("all"), "--runner", "direct");
    InProcessCli.convert(all, spark.resolve("all"), "--runner", "spark", "--spark-master", "local[2]");
    OutputTrees.assertSameOutput(direct.resolve("all"), spark.resolve("all"));
    for (String step : List.of("sft-zero2/checkpoint-2", "sft-zero2/checkpoint-4", "sft-ddp/checkpoint-3",
        "cogkit/checkpoint-3")) {
      assertTrue(Files.exists(spark.resolve("all").resolve(step).resolve("_SUCCESS")), step);
    }
  }
}
