package org.sat2diffusers.pipeline.verify;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;
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
 * Re-reads a converted folder and compares it with what its conversion recorded: the commit marker
 * against the report, every weight file of {@code conversion_report.json} (size, the digest of its
 * header and of each tensor, the safetensors format), every config file (size and sha256), each
 * component's index against its shards, and nothing in the folder the report does not list.
 *
 * <p>The folder is untrusted like any input: every path the report names must stay inside it (no
 * {@code ..}, no link on the way), only regular files are opened (no link, FIFO or device), and
 * each file gets a time limit. Each file is read once, front to back.
 */
public final class ConvertedFolderCheck {
  /** Time for one file beyond what its size needs at {@link #BYTES_PER_SECOND}. */
  public static final Duration DEFAULT_FILE_TIMEOUT = Duration.ofSeconds(60);

  private static final long BYTES_PER_SECOND = 32L << 20;
  private static final int BUFFER_BYTES = 1 << 20;
  private static final int MAX_SMALL_FILE_BYTES = 256 << 20;
  /** Names the converter itself uses inside an output while writing it (staging, lock): not part of it. */
  private static final String TOOL_PREFIX = ".sat2diffusers";
  private static final String INDEX_SUFFIX = ".safetensors.index.json";

  /** What was checked, and every difference found (empty when the folder is as recorded). */
  public record Result(int files, long tensors, long bytes, List<String> problems) {
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  /** One weight file as read: what it holds (tensor → bytes) and what is wrong with it. */
  private record WeightFile(Map<String, Long> held, long bytes, List<String> problems) {}

  private final String dir;
  /** The folder on this machine's file system; null on object stores and HDFS (no links, no FIFOs there). */
  private final Path localRoot;
  private final Duration fileTimeout;
  private final TimeBound timeBound = new TimeBound();
  private final List<String> problems = new ArrayList<>();
  private int files;
  private long tensors;
  private long bytes;

  private ConvertedFolderCheck(String dir, Duration fileTimeout) {
    this.dir = dir;
    this.localRoot = StorageFiles.isLocal(dir) ? Path.of(dir) : null;
    this.fileTimeout = fileTimeout;
  }

  public static Result run(String dir, Duration fileTimeout) {
    ConvertedFolderCheck check = new ConvertedFolderCheck(dir, fileTimeout);
    try (TimeBound ignored = check.timeBound) {
      check.run();
    }
    return new Result(check.files, check.tensors, check.bytes, List.copyOf(check.problems));
  }

  private void run() {
    try {
      String markerPath = dir + "/" + CommitMarker.FILE;
      String markerText = readSmall(CommitMarker.FILE, "no " + CommitMarker.FILE + " commit marker: the conversion never finished");
      String reportPath = dir + "/" + FinalizeCheckpoints.REPORT;
      String reportText = readSmall(FinalizeCheckpoints.REPORT, "missing: nothing to verify against");
      if (reportText == null) {
        return;
      }
      Map<?, ?> report = asMap(PythonJson.parse(reportText), reportPath);
      if (markerText != null) {
        problems.addAll(MarkerCheck.problems(markerPath, markerText, report));
      }
      Map<String, String> entries = FolderEntries.of(dir, localRoot);
      Set<String> listed = new HashSet<>(List.of(CommitMarker.FILE, FinalizeCheckpoints.REPORT));

      Map<String, Map<String, Long>> written = new TreeMap<>(); // path -> each tensor it holds -> its bytes
      for (Object item : asList(report.get("written_files"), reportPath + ": written_files")) {
        Map<?, ?> file = asMap(item, reportPath + ": a written_files entry");
        String relative = String.valueOf(file.get("path"));
        listed.add(relative);
        checkWeightFile(relative, file, written);
      }
      checkConfigFiles(report.get("config_files"), reportPath, listed);
      Map<?, ?> components = asMap(report.get("components"), reportPath + ": components");
      for (Map.Entry<?, ?> c : components.entrySet()) {
        checkComponent(String.valueOf(c.getKey()), asMap(c.getValue(), reportPath + ": component " + c.getKey()),
            written, entries);
      }
      Set<String> folders = new HashSet<>();
      components.keySet().forEach(k -> folders.add(String.valueOf(k)));
      checkNothingElse(entries, listed, folders, baseComponents(report));
    } catch (IOException | RuntimeException e) {
      problems.add(dir + ": " + ErrorText.of(e));
    }
  }

  /**
   * Size, format, and the digest (the one the report names: crc32c or sha256) of the header and of
   * every tensor of one weight file, in one sequential read. Every byte counts: the header's digest
   * covers the bytes before the data, a gap between tensors spoils the next tensor's digest, and a
   * byte after the last tensor the size.
   */
  private void checkWeightFile(String relative, Map<?, ?> recorded, Map<String, Map<String, Long>> written)
      throws IOException {
    String path = dir + "/" + relative;
    Digest digest = recordedDigest(recorded);
    if (digest == null) {
      problems.add(path + ": the report records no header_crc32c or header_sha256 for it");
      return;
    }
    long recordedBytes = recorded.get("bytes") instanceof Number n ? n.longValue() : 0;
    WeightFile file = bounded(path, recordedBytes, () -> readWeightFile(relative, recorded, digest));
    if (file == null) {
      return;
    }
    problems.addAll(file.problems());
    if (file.held() != null) {
      files++;
      written.put(relative, file.held());
      tensors += file.held().size();
      bytes += file.bytes();
    }
  }

  private WeightFile readWeightFile(String relative, Map<?, ?> recorded, Digest digest) throws IOException {
    String path = dir + "/" + relative;
    List<String> found = new ArrayList<>();
    String headerKey = "header_" + digest.label();
    String tensorsKey = "tensor_" + digest.label();
    Map<?, ?> expectedTensors = asMap(recorded.get(tensorsKey), path + ": " + tensorsKey + " of the report");
    try (RandomAccessInput in = open(relative)) {
      long size = in.size();
      if (!(recorded.get("bytes") instanceof Number n) || size != n.longValue()) {
        found.add(path + ": " + size + " bytes, the report says " + recorded.get("bytes"));
      }
      SafetensorsFile st;
      try {
        st = SafetensorsFile.open(in);
      } catch (IOException | RuntimeException e) {
        found.add(ErrorText.of(e));
        return new WeightFile(null, 0, found);
      }
      Map<String, Long> held = new LinkedHashMap<>();
      Map<String, String> actual = digests(in, st, held, digest);
      String header = actual.remove("");
      if (!header.equals(recorded.get(headerKey))) {
        found.add(path + ": the header's " + digest.label() + " " + header + " differs from the report's "
            + recorded.get(headerKey));
      }
      for (Map.Entry<String, String> t : actual.entrySet()) {
        Object expected = expectedTensors.get(t.getKey());
        if (expected == null) {
          found.add(path + ": tensor '" + t.getKey() + "' is not in the report");
        } else if (!expected.equals(t.getValue())) {
          found.add(path + ": tensor '" + t.getKey() + "' has " + digest.label() + " " + t.getValue()
              + ", the report says " + expected);
        }
      }
      for (Object name : expectedTensors.keySet()) {
        if (!actual.containsKey(String.valueOf(name))) {
          found.add(path + ": tensor '" + name + "' of the report is missing");
        }
      }
      return new WeightFile(held, held.values().stream().mapToLong(Long::longValue).sum(), found);
    } catch (NoSuchFileException e) {
      found.add(path + ": missing (the report lists it)");
      return new WeightFile(null, 0, found);
    } catch (IOException e) {
      found.add(ErrorText.of(e));
      return new WeightFile(null, 0, found);
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
  private static Map<String, String> digests(
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

  /** Each config file (configs, indexes, scheduler config, model_index.json): its size and sha256 as written. */
  private void checkConfigFiles(Object configFiles, String reportPath, Set<String> listed) throws IOException {
    if (configFiles == null) {
      problems.add(reportPath + ": lists no config_files (a report of an older converter?): the configs cannot be"
          + " checked");
      return;
    }
    for (Object item : asList(configFiles, reportPath + ": config_files")) {
      Map<?, ?> file = asMap(item, reportPath + ": a config_files entry");
      String relative = String.valueOf(file.get("path"));
      listed.add(relative);
      String path = dir + "/" + relative;
      String text = readSmall(relative, "missing (the report lists it)");
      if (text == null) {
        continue;
      }
      files++;
      byte[] content = text.getBytes(StandardCharsets.UTF_8);
      String sha256 = Digest.SHA256.of(content);
      if (!sha256.equals(file.get("sha256")) || !(file.get("bytes") instanceof Number n) || n.longValue() != content.length) {
        problems.add(path + ": " + content.length + " bytes with sha256 " + sha256 + ", the report says "
            + file.get("bytes") + " bytes with sha256 " + file.get("sha256") + " (edited after the conversion?)");
      }
    }
  }

  /** The component's files against the report, its index (when sharded) against the shards. */
  private void checkComponent(
      String folder, Map<?, ?> component, Map<String, Map<String, Long>> written, Map<String, String> entries)
      throws IOException {
    List<String> listedFiles = asList(component.get("files"), "files of " + folder).stream().map(String::valueOf).toList();
    Map<String, String> placement = new TreeMap<>(); // tensor -> the shard holding it
    long total = 0;
    for (String name : listedFiles) {
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
    List<String> indexes = entries.keySet().stream()
        .filter(e -> e.startsWith(folder + "/") && e.indexOf('/', folder.length() + 1) < 0 && e.endsWith(INDEX_SUFFIX))
        .toList();
    if (listedFiles.size() > 1 && indexes.isEmpty()) {
      problems.add(dir + "/" + folder + ": " + listedFiles.size() + " shards but no .safetensors.index.json");
    }
    for (String index : indexes) {
      String text = readSmall(index, "missing");
      if (text == null) {
        continue;
      }
      String indexPath = dir + "/" + index;
      try {
        checkIndex(indexPath, ShardIndex.parse(indexPath, text.getBytes(StandardCharsets.UTF_8)), placement, total);
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

  /**
   * Every entry of the folder must be a file or component folder the report lists; the folders of
   * components taken from a base pipeline hold the base's files (maybe linked) and are not looked into.
   */
  private void checkNothingElse(
      Map<String, String> entries, Set<String> listed, Set<String> componentFolders, Set<String> baseFolders) {
    Set<String> folders = new HashSet<>(componentFolders);
    for (String file : listed) { // the scheduler folder, for one, holds only a config
      for (int slash = file.indexOf('/'); slash > 0; slash = file.indexOf('/', slash + 1)) {
        folders.add(file.substring(0, slash));
      }
    }
    List<String> strayFolders = new ArrayList<>();
    for (Map.Entry<String, String> e : entries.entrySet()) {
      String relative = e.getKey();
      String top = relative.contains("/") ? relative.substring(0, relative.indexOf('/')) : relative;
      String path = dir + "/" + relative;
      if (top.startsWith(TOOL_PREFIX) || baseFolders.contains(top)
          || strayFolders.stream().anyMatch(f -> relative.startsWith(f + "/"))) {
        continue;
      }
      if (e.getValue().equals(FolderEntries.FOLDER)) {
        if (!folders.contains(relative)) {
          strayFolders.add(relative);
          problems.add(path + ": " + (relative.equals(top) ? "a component folder" : "a folder")
              + " the report does not list");
        }
      } else if (!listed.contains(relative)) {
        String what = !e.getValue().equals(FolderEntries.FILE) ? e.getValue()
            : relative.endsWith(".safetensors") ? "a weight file" : "a file";
        problems.add(path + ": " + what + " the report does not list");
      }
    }
  }

  private static Set<String> baseComponents(Map<?, ?> report) {
    Set<String> folders = new HashSet<>();
    if (report.get("base_pipeline") instanceof Map<?, ?> base && base.get("components") instanceof List<?> list) {
      list.forEach(c -> folders.add(String.valueOf(c)));
    }
    return folders;
  }

  /**
   * A small file's text, read within the time limit; null (and {@code dir/relative: ifMissing} as a
   * problem) when it is not there, null with the problem when it cannot be read safely.
   */
  private String readSmall(String relative, String ifMissing) {
    String path = dir + "/" + relative;
    byte[] content = bounded(path, 0, () -> {
      try (RandomAccessInput in = open(relative)) {
        long size = in.size();
        if (size > MAX_SMALL_FILE_BYTES) {
          throw new IOException(path + ": " + size + " bytes, more than a converted folder's small files have");
        }
        byte[] b = new byte[(int) size];
        in.readFully(0, b, 0, b.length);
        return b;
      } catch (NoSuchFileException e) {
        return null;
      }
    });
    if (content == null) {
      if (problems.stream().noneMatch(p -> p.startsWith(path + ":"))) {
        problems.add(path + ": " + ifMissing);
      }
      return null;
    }
    return new String(content, StandardCharsets.UTF_8);
  }

  /**
   * {@code task}'s result within this file's time limit (the base limit plus what its size needs);
   * null, with a problem naming the file, when it failed or ran out of time.
   */
  private <T> T bounded(String path, long sizeBytes, Callable<T> task) {
    Duration limit = fileTimeout.plusSeconds(Math.max(0, sizeBytes) / BYTES_PER_SECOND);
    try {
      return timeBound.run(limit, task);
    } catch (TimeoutException e) {
      problems.add(path + ": no answer within " + limit.toSeconds() + " s: not verified (a special file, or a hung"
          + " mount or store?)");
    } catch (IOException | RuntimeException e) {
      String message = ErrorText.of(e);
      problems.add(message.startsWith(dir) ? message : path + ": " + message); // most name the file already
    }
    return null;
  }

  /**
   * Opens a file the report or the listing names, never outside the folder: locally only a regular
   * file reached through real folders; elsewhere (no links there) any path that stays below it.
   */
  private RandomAccessInput open(String relative) throws IOException {
    if (localRoot != null) {
      return RandomAccessInputs.openRegularFile(ReportPaths.regularFileInside(localRoot, relative));
    }
    String problem = ReportPaths.syntaxProblem(relative);
    if (problem != null) {
      throw new IOException(dir + "/" + relative + ": named by the report, " + problem + ": not opened");
    }
    String path = dir + "/" + relative;
    if (!StorageFiles.exists(path)) {
      throw new NoSuchFileException(path);
    }
    return RandomAccessInputs.open(path);
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
