package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.sat2diffusers.pipeline.e2e.ComponentWeights.WrittenTensor;
import org.sat2diffusers.pipeline.testing.TestPaths;
import org.sat2diffusers.transforms.records.Component;

/** {@code --max-shard-size 20KB} on the 2B fixture: huggingface_hub's sharding, and re-runs that leave nothing stale. */
class ShardedConversionTest {
  private static final long LIMIT = 20_000;
  private static final Path MANIFEST = TestPaths.expected("cogvideox-2b-sft/1000.json");

  @TempDir static Path work;
  private static Path sharded;

  @BeforeAll
  static void convertSharded() {
    sharded = work.resolve("sharded");
    convert(sharded, true);
  }

  private static void convert(Path output, boolean sharded) {
    List<Object> args = new ArrayList<>(List.of("convert", "--source", TestPaths.sat("cogvideox-2b-sft"), "--output", output));
    if (sharded) {
      args.addAll(List.of("--max-shard-size", "20KB"));
    }
    CliRun.run(args.toArray()).assertSucceeded();
  }

  @Test
  void shardedFolderHoldsTheExpectedTensors() throws IOException {
    assertEquals(List.of(), ExpectedTensors.mismatches(sharded, MANIFEST));
    assertNotNull(ComponentWeights.read(sharded.resolve("transformer"), "diffusion_pytorch_model").index(),
        "the 2B transformer (22,784 tensor bytes) is not sharded at 20KB");
  }

  @ParameterizedTest
  @EnumSource(Component.class)
  void everyShardHoldsAtMostTheLimitUnlessItIsOneOversizedTensor(Component c) throws IOException {
    ComponentWeights weights = ComponentWeights.read(sharded.resolve(c.folder()), c.fileStem());
    List<Long> sizes = weights.bytesPerFile();
    for (int i = 0; i < sizes.size(); i++) {
      String file = weights.files().get(i);
      long tensors = weights.tensors().values().stream().filter(t -> t.file().equals(file)).count();
      assertTrue(sizes.get(i) <= LIMIT || tensors == 1,
          c.folder() + "/" + file + ": " + sizes.get(i) + " tensor bytes in " + tensors + " tensors");
    }
  }

  /**
   * Recomputes huggingface_hub's {@code split_torch_state_dict_into_shards} over the tensors in the
   * plan's order (the report lists the source keys in checkpoint order, each with its outputs) and
   * compares the file of every tensor.
   */
  @ParameterizedTest
  @EnumSource(Component.class)
  void shardsFollowHuggingfaceHubsGreedySplit(Component c) throws IOException {
    ComponentWeights weights = ComponentWeights.read(sharded.resolve(c.folder()), c.fileStem());
    Map<String, Long> sizes = new TreeMap<>();
    Map<String, String> actual = new TreeMap<>();
    for (Map.Entry<String, WrittenTensor> t : weights.tensors().entrySet()) {
      sizes.put(t.getKey(), (long) t.getValue().bytes().length);
      actual.put(t.getKey(), t.getValue().file());
    }
    List<String> order = plannedOrder(c);
    assertEquals(new TreeSet<>(sizes.keySet()), new TreeSet<>(order), c.folder() + ": the report's outputs");
    List<List<String>> shards = greedyShards(order, sizes, LIMIT);
    Map<String, String> expected = new TreeMap<>();
    for (int i = 0; i < shards.size(); i++) {
      String file = shards.size() == 1
          ? c.fileStem() + ".safetensors"
          : String.format("%s-%05d-of-%05d.safetensors", c.fileStem(), i + 1, shards.size());
      shards.get(i).forEach(name -> expected.put(name, file));
    }
    assertEquals(expected, actual, c.folder() + ": the shard of each tensor");
  }

  private static List<String> plannedOrder(Component c) {
    Set<String> order = new LinkedHashSet<>();
    for (JsonNode entry : TestData.json(sharded.resolve("conversion_report.json")).get("source_keys")) {
      if (entry.path("component").asText().equals(c.folder())) {
        entry.path("outputs").forEach(o -> order.add(o.asText()));
      }
    }
    return List.copyOf(order);
  }

  /** A tensor over the limit gets a shard of its own at once; otherwise one that would overflow the open shard closes it. */
  private static List<List<String>> greedyShards(List<String> order, Map<String, Long> sizes, long limit) {
    List<List<String>> shards = new ArrayList<>();
    List<String> open = new ArrayList<>();
    long openBytes = 0;
    for (String name : order) {
      long size = sizes.get(name);
      if (size > limit) {
        shards.add(List.of(name));
        continue;
      }
      if (openBytes + size > limit) {
        shards.add(open);
        open = new ArrayList<>();
        openBytes = 0;
      }
      open.add(name);
      openBytes += size;
    }
    if (!open.isEmpty()) {
      shards.add(open);
    }
    return shards;
  }

  @Test
  void reRunsIntoTheSameFolderLeaveNoStaleWeightFiles() throws IOException {
    Path rerun = TestPaths.copyTree(sharded, work.resolve("rerun"));
    convert(rerun, false);
    for (Component c : ExpectedTensors.components(MANIFEST)) {
      assertNull(ComponentWeights.read(rerun.resolve(c.folder()), c.fileStem()).index(), c.folder() + ": still sharded");
      assertEquals(Set.of("config.json", c.fileStem() + ".safetensors"), fileNames(rerun.resolve(c.folder())),
          c.folder() + "/ after re-running without sharding");
    }
    assertEquals(List.of(), ExpectedTensors.mismatches(rerun, MANIFEST));

    convert(rerun, true);
    for (Component c : ExpectedTensors.components(MANIFEST)) {
      assertEquals(fileNames(sharded.resolve(c.folder())), fileNames(rerun.resolve(c.folder())),
          c.folder() + "/ after sharding again");
    }
    assertEquals(List.of(), ExpectedTensors.mismatches(rerun, MANIFEST));
  }

  private static Set<String> fileNames(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      return new TreeSet<>(files.map(p -> p.getFileName().toString()).toList());
    }
  }
}
