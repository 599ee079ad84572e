package org.sat2diffusers.transforms.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.torch.TensorRecord;

/**
 * Tensor records of the fixture checkpoints, built from {@code testdata/expected/source/*.json} (key
 * order, dtype, shape, stride, storage offset, shared storage). Storage locations are either fake but
 * consistent, or the real ones from {@code fixture-storage/*.json} (made by
 * {@code src/test/python/index_fixture_storages.py}), which lets tests read the real bytes.
 */
public final class FixtureSources {
  public static final ObjectMapper JSON = new ObjectMapper();

  private FixtureSources() {}

  /** The repository's testdata folder: the {@code testdata.dir} property, else found walking up from here. */
  public static Path testdata() {
    String property = System.getProperty("testdata.dir");
    if (property != null && Files.isDirectory(Path.of(property))) {
      return Path.of(property);
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir.resolve("testdata/expected"))) {
        return dir.resolve("testdata");
      }
    }
    throw new IllegalStateException("no testdata/ folder above " + Path.of("").toAbsolutePath());
  }

  public static JsonNode readJson(Path path) {
    try {
      return JSON.readTree(path.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The tensors of {@code sat/<relativePt>} in state-dict order, their file being the .pt's absolute path.
   *
   * @param realStorage locate storages as they are in the file; otherwise lay them out one after another
   */
  public static List<SourceTensor> load(String relativePt, boolean realStorage) {
    Path pt = testdata().resolve("sat").resolve(relativePt);
    String stem = relativePt.substring(0, relativePt.length() - ".pt".length());
    JsonNode tensors = readJson(testdata().resolve("expected/source/" + stem + ".json")).get("tensors");
    Map<String, JsonNode> storages = realStorage ? storageIndex(stem) : Map.of();
    Map<String, String> storageOf = new LinkedHashMap<>();
    tensors.fields().forEachRemaining(e -> storageOf.put(e.getKey(), realStorage
        ? storages.get(e.getKey()).get(0).asText()
        : e.getValue().has("shares_storage_with") ? e.getValue().get("shares_storage_with").asText() : e.getKey()));
    Map<String, List<String>> keysOfStorage = new HashMap<>();
    storageOf.forEach((key, storage) -> keysOfStorage.computeIfAbsent(storage, s -> new ArrayList<>()).add(key));

    Map<String, long[]> fakeStorage = new HashMap<>(); // storage -> {file offset, bytes}
    long nextOffset = 64;
    List<SourceTensor> out = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = tensors.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode t = e.getValue();
      Dtype dtype = Dtype.fromSafetensorsName(t.get("dtype").asText());
      List<Long> shape = longs(t.get("shape"));
      long storageOffset = t.get("storage_offset").asLong();
      String storage = storageOf.get(e.getKey());
      long fileOffset;
      long storageBytes;
      if (realStorage) {
        fileOffset = storages.get(e.getKey()).get(1).asLong();
        storageBytes = storages.get(e.getKey()).get(2).asLong();
      } else {
        long bytes = (storageOffset + shape.stream().reduce(1L, (a, b) -> a * b)) * dtype.size();
        if (!fakeStorage.containsKey(storage)) {
          fakeStorage.put(storage, new long[] {nextOffset, bytes});
          nextOffset += (bytes + 63) / 64 * 64;
        }
        fileOffset = fakeStorage.get(storage)[0];
        storageBytes = fakeStorage.get(storage)[1];
      }
      List<String> shared = new ArrayList<>(keysOfStorage.get(storage));
      shared.remove(e.getKey());
      out.add(new SourceTensor(pt.toString(), new TensorRecord(
          e.getKey(), dtype, shape, longs(t.get("stride")), storage, storageOffset, fileOffset, storageBytes, shared)));
    }
    return out;
  }

  private static Map<String, JsonNode> storageIndex(String stem) {
    try (InputStream in = FixtureSources.class.getResourceAsStream("/fixture-storage/" + stem + ".json")) {
      if (in == null) {
        throw new IllegalStateException("no storage index for " + stem + ": run src/test/python/index_fixture_storages.py");
      }
      Map<String, JsonNode> out = new HashMap<>();
      JSON.readTree(in).fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue()));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Long> longs(JsonNode array) {
    List<Long> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asLong()));
    return out;
  }
}
