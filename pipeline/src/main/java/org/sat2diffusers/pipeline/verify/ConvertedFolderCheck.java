package org.sat2diffusers.pipeline.verify;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.safetensors.ShardIndex;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.io.storage.StorageFiles;
import org.sat2diffusers.pipeline.steps.CommitMarker;
import org.sat2diffusers.pipeline.steps.ErrorText;
import org.sat2diffusers.pipeline.steps.FinalizeCheckpoints;

/**
 * Re-reads a converted folder and compares it with what its conversion recorded: the commit marker,
 * every weight file of {@code conversion_report.json} (size, the digest of its header and of each
 * tensor, the safetensors format), each component's index against its shards, and no weight file the report does
 * not list. Each file is read once, front to back.
 */
public final class ConvertedFolderCheck {
  private static final int BUFFER_BYTES = 1 << 20;
  private static final int MAX_SMALL_FILE_BYTES = 256 << 20;

  /** What was checked, and every difference found (empty when the folder is as recorded). */
  public record Result(int files, long tensors, long bytes, List<String> problems) {
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  private final String dir;
  private final List<String> problems = new ArrayList<>();
  private int files;
  private long tensors;
  private long bytes;

  private ConvertedFolderCheck(String dir) {
    this.dir = dir;
  }

  public static Result run(String dir) {
    ConvertedFolderCheck check = new ConvertedFolderCheck(dir);
    check.run();
    return new Result(check.files, check.tensors, check.bytes, List.copyOf(check.problems));
  }

  private void run() {
    try {
      if (!StorageFiles.exists(dir + "/" + CommitMarker.FILE)) {
        problems.add(dir + ": no " + CommitMarker.FILE + " commit marker: the conversion never finished");
      }
      String reportPath = dir + "/" + FinalizeCheckpoints.REPORT;
      if (!StorageFiles.exists(reportPath)) {
        problems.add(reportPath + ": missing: nothing to verify against");
        return;
      }
      Map<?, ?> report = asMap(PythonJson.parse(StorageFiles.readString(reportPath, MAX_SMALL_FILE_BYTES)), reportPath);
      Map<String, Map<String, Long>> written = new TreeMap<>(); // path -> each tensor it holds -> its bytes
      for (Object item : asList(report.get("written_files"), reportPath + ": written_files")) {
        Map<?, ?> file = asMap(item, reportPath + ": a written_files entry");
        String relative = String.valueOf(file.get("path"));
        checkWeightFile(relative, file, written);
      }
      Map<?, ?> components = asMap(report.get("components"), reportPath + ": components");
      for (Map.Entry<?, ?> c : components.entrySet()) {
        checkComponent(String.valueOf(c.getKey()), asMap(c.getValue(), reportPath + ": component " + c.getKey()),
            written);
      }
    } catch (IOException | RuntimeException e) {
      problems.add(dir + ": " + ErrorText.of(e));
    }
  }

  /**
   * Size, format, and the digest (the one the report names: crc32c or sha256) of the header and of
   * every tensor of one weight file, in one sequential read. Every byte counts: the header's digest covers the bytes before the data, a gap
   * between tensors spoils the next tensor's digest, and a byte after the last tensor the size.
   */
  private void checkWeightFile(String relative, Map<?, ?> recorded, Map<String, Map<String, Long>> written)
      throws IOException {
    String path = dir + "/" + relative;
    if (!StorageFiles.exists(path)) {
      problems.add(path + ": missing (the report lists it)");
      return;
    }
    files++;
    Digest digest = recordedDigest(recorded);
    if (digest == null) {
      problems.add(path + ": the report records no header_crc32c or header_sha256 for it");
      return;
    }
    String headerKey = "header_" + digest.label();
    String tensorsKey = "tensor_" + digest.label();
    Map<?, ?> expectedTensors = asMap(recorded.get(tensorsKey), path + ": " + tensorsKey + " of the report");
    try (RandomAccessInput in = RandomAccessInputs.open(path)) {
      long size = in.size();
      if (size != ((Number) recorded.get("bytes")).longValue()) {
        problems.add(path + ": " + size + " bytes, the report says " + recorded.get("bytes"));
      }
      SafetensorsFile st;
      try {
        st = SafetensorsFile.open(in);
      } catch (IOException | RuntimeException e) {
        problems.add(ErrorText.of(e));
        return;
      }
      Map<String, Long> held = new LinkedHashMap<>();
      Map<String, String> actual = digests(in, st, held, digest);
      written.put(relative, held);
      String header = actual.remove("");
      if (!header.equals(recorded.get(headerKey))) {
        problems.add(path + ": the header's " + digest.label() + " " + header + " differs from the report's "
            + recorded.get(headerKey));
      }
      for (Map.Entry<String, String> t : actual.entrySet()) {
        Object expected = expectedTensors.get(t.getKey());
        if (expected == null) {
          problems.add(path + ": tensor '" + t.getKey() + "' is not in the report");
        } else if (!expected.equals(t.getValue())) {
          problems.add(path + ": tensor '" + t.getKey() + "' has " + digest.label() + " " + t.getValue()
              + ", the report says " + expected);
        }
      }
      for (Object name : expectedTensors.keySet()) {
        if (!actual.containsKey(String.valueOf(name))) {
          problems.add(path + ": tensor '" + name + "' of the report is missing");
        }
      }
    }
  }

  /** The digest a weight file's report entry was written with, or null when it records none. */
  private static Digest recordedDigest(Map<?, ?> recorded) {
    for (Digest d : Digest.values()) {
      if (recorded.containsKey("header_" + d.label())) {
        return d;
      }
    }
    return null;
  }

  /** Per tensor its digest, and under "" the header's, reading the file once up to its last tensor. */
  private Map<String, String> digests(
      RandomAccessInput in, SafetensorsFile st, Map<String, Long> held, Digest digest) throws IOException {
    byte[] buf = new byte[BUFFER_BYTES];
    Digest.Running header = digest.start();
    long position = feed(in, 0, st.dataStart(), buf, header);
    List<SafetensorsEntry> entries = new ArrayList<>(st.entries());
    entries.sort(Comparator.comparingLong(SafetensorsEntry::offset));
    Map<String, String> out = new LinkedHashMap<>();
    for (SafetensorsEntry e : entries) {
      Digest.Running tensor = digest.start();
      position = feed(in, position, e.end(), buf, tensor);
      out.put(e.name(), tensor.hex());
      held.put(e.name(), e.byteLength());
      tensors++;
      bytes += e.byteLength();
    }
    out.put("", header.hex());
    return out;
  }

  private static long feed(RandomAccessInput in, long from, long to, byte[] buf, Digest.Running running)
      throws IOException {
    for (long at = from; at < to; ) {
      int n = (int) Math.min(buf.length, to - at);
      in.readFully(at, buf, 0, n);
      running.update(buf, 0, n);
      at += n;
    }
    return to;
  }

  /** The component's files against the report, its index (when sharded) against the shards, no strays. */
  private void checkComponent(String folder, Map<?, ?> component, Map<String, Map<String, Long>> written)
      throws IOException {
    List<String> listed = asList(component.get("files"), "files of " + folder).stream().map(String::valueOf).toList();
    Map<String, String> placement = new TreeMap<>(); // tensor -> the shard holding it
    long total = 0;
    for (String name : listed) {
      Map<String, Long> held = written.get(folder + "/" + name);
      if (held == null) {
        problems.add(dir + "/" + folder + "/" + name + ": listed for " + folder + " but not among the written files");
        continue;
      }
      for (Map.Entry<String, Long> t : held.entrySet()) {
        placement.put(t.getKey(), name);
        total += t.getValue();
      }
    }
    for (String other : StorageFiles.list(dir + "/" + folder + "/*.safetensors")) {
      String name = other.substring(other.lastIndexOf('/') + 1);
      if (!listed.contains(name)) {
        problems.add(other + ": a weight file the report does not list");
      }
    }
    List<String> indexes = StorageFiles.list(dir + "/" + folder + "/*.safetensors.index.json");
    if (listed.size() > 1 && indexes.isEmpty()) {
      problems.add(dir + "/" + folder + ": " + listed.size() + " shards but no .safetensors.index.json");
    }
    for (String indexPath : indexes) {
      try {
        byte[] json = StorageFiles.readString(indexPath, MAX_SMALL_FILE_BYTES).getBytes(StandardCharsets.UTF_8);
        checkIndex(indexPath, ShardIndex.parse(indexPath, json), placement, total);
      } catch (IllegalArgumentException e) {
        problems.add(ErrorText.of(e));
      }
    }
  }

  private void checkIndex(String indexPath, ShardIndex index, Map<String, String> placement, long total) {
    Set<String> names = new TreeSet<>(placement.keySet());
    names.addAll(index.weightMap().keySet());
    for (String name : names) {
      String inIndex = index.weightMap().get(name);
      String inShards = placement.get(name);
      if (inIndex == null) {
        problems.add(indexPath + ": tensor '" + name + "' (in " + inShards + ") is missing from weight_map");
      } else if (inShards == null) {
        problems.add(indexPath + ": weight_map names '" + name + "' in " + inIndex + ", which does not hold it");
      } else if (!inIndex.equals(inShards)) {
        problems.add(indexPath + ": weight_map puts '" + name + "' in " + inIndex + ", but it is in " + inShards);
      }
    }
    if (index.totalSize() != total) {
      problems.add(indexPath + ": metadata.total_size " + index.totalSize() + " differs from the shards' " + total
          + " tensor bytes");
    }
  }

  private static Map<?, ?> asMap(Object value, String what) {
    if (!(value instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException(what + " is not a JSON object");
    }
    return map;
  }

  private static List<?> asList(Object value, String what) {
    if (!(value instanceof List<?> list)) {
      throw new IllegalArgumentException(what + " is not a JSON array");
    }
    return list;
  }
}
