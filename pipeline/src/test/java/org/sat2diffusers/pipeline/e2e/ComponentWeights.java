package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.safetensors.ShardIndex;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;

/**
 * The weights of one component folder as written, read with the project's own safetensors reader:
 * {@code <stem>.safetensors}, or shards and {@code <stem>.safetensors.index.json}. Reading checks the
 * folder's layout: each file follows the format, the index agrees with the shards on disk.
 *
 * @param tensors every tensor by name
 * @param files the weight file names, in shard order
 * @param index the shard index, or null for a single file
 */
record ComponentWeights(Map<String, WrittenTensor> tensors, List<String> files, ShardIndex index) {
  /** One tensor as written: the file holding it, dtype, shape and bytes. */
  record WrittenTensor(String file, Dtype dtype, List<Long> shape, byte[] bytes) {
    String sha256() {
      return TestData.sha256(bytes);
    }
  }

  static ComponentWeights read(Path folder, String stem) throws IOException {
    Path single = folder.resolve(stem + ".safetensors");
    Path indexFile = folder.resolve(stem + ".safetensors.index.json");
    List<String> shardsOnDisk;
    try (Stream<Path> listing = Files.list(folder)) {
      shardsOnDisk = listing.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith(stem + "-") && n.endsWith(".safetensors")).sorted().toList();
    }
    if (!Files.exists(indexFile)) {
      assertTrue(Files.exists(single), folder + ": neither " + single.getFileName() + " nor " + indexFile.getFileName());
      assertEquals(List.of(), shardsOnDisk, folder + ": shard files without an index");
      return new ComponentWeights(readFile(single), List.of(single.getFileName().toString()), null);
    }
    assertFalse(Files.exists(single), folder + ": both " + single.getFileName() + " and an index: one is stale");
    ShardIndex index = ShardIndex.parse(indexFile.toString(), Files.readAllBytes(indexFile));
    List<String> files = index.shardFiles();
    for (int i = 0; i < files.size(); i++) {
      assertEquals(String.format("%s-%05d-of-%05d.safetensors", stem, i + 1, files.size()), files.get(i),
          indexFile + ": shard names");
    }
    assertEquals(files, shardsOnDisk, folder + ": the shard files on disk are not the ones the index names");
    Map<String, WrittenTensor> tensors = new LinkedHashMap<>();
    long total = 0;
    for (String file : files) {
      for (Map.Entry<String, WrittenTensor> t : readFile(folder.resolve(file)).entrySet()) {
        assertEquals(file, index.weightMap().get(t.getKey()), indexFile + ": the file of " + t.getKey());
        tensors.put(t.getKey(), t.getValue());
        total += t.getValue().bytes().length;
      }
    }
    assertEquals(index.weightMap().keySet(), tensors.keySet(), indexFile + ": names in the index but in no shard");
    assertEquals(total, index.totalSize(), indexFile + ": metadata.total_size is not the sum of the tensor bytes");
    return new ComponentWeights(tensors, files, index);
  }

  private static Map<String, WrittenTensor> readFile(Path file) throws IOException {
    List<String> problems = SafetensorsFormat.problems(Files.readAllBytes(file));
    assertEquals(List.of(), problems, file + " breaks the safetensors format");
    Map<String, WrittenTensor> tensors = new LinkedHashMap<>();
    String name = file.getFileName().toString();
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      SafetensorsFile st = SafetensorsFile.open(in);
      for (SafetensorsEntry e : st.entries()) {
        tensors.put(e.name(), new WrittenTensor(name, e.dtype(), e.shape(), st.readTensor(e.name())));
      }
    }
    return tensors;
  }

  /** The tensor bytes per file, in shard order: what huggingface_hub's size limit counts. */
  List<Long> bytesPerFile() {
    List<Long> sizes = new ArrayList<>();
    for (String file : files) {
      sizes.add(tensors.values().stream().filter(t -> t.file().equals(file)).mapToLong(t -> t.bytes().length).sum());
    }
    return sizes;
  }
}
