package org.sat2diffusers.pipeline.steps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Pattern;
import org.sat2diffusers.io.storage.StorageFiles;

/**
 * What a new commit replaces in an output folder: the whole earlier conversion, not just the
 * files of the same names. Every file in a component folder (one this converter writes, one the
 * base pipeline supplies, or one the old {@code model_index.json} names) and the old
 * {@code model_index.json} that the new commit does not put there is stale and removed; anything
 * else a user keeps in the folder is left alone.
 */
public final class OutputReplacement {
  /** Folders a Diffusers CogVideoX pipeline may hold (the base pipeline's included). */
  private static final List<String> KNOWN_FOLDERS = List.of("transformer", "vae", "text_encoder", "scheduler", "tokenizer");
  private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  private static final String MODEL_INDEX = "model_index.json";
  private static final String PROBE_PREFIX = ".sat2diffusers-probe-";

  private OutputReplacement() {}

  /**
   * The files of an earlier conversion in {@code out} that the new one (placing {@code placed},
   * paths relative to {@code out}) leaves no place for.
   */
  static List<String> staleFiles(String out, Collection<String> placed, Collection<String> newFolders)
      throws IOException {
    Set<String> folders = new TreeSet<>(KNOWN_FOLDERS);
    folders.addAll(newFolders);
    folders.addAll(oldModelIndexFolders(out));
    List<String> stale = new ArrayList<>();
    for (String folder : folders) {
      for (String file : StorageFiles.list(out + "/" + folder + "/**")) {
        if (!placed.contains(file.substring(out.length() + 1))) {
          stale.add(file);
        }
      }
    }
    if (!placed.contains(MODEL_INDEX) && StorageFiles.exists(out + "/" + MODEL_INDEX)) {
      stale.add(out + "/" + MODEL_INDEX);
    }
    return stale;
  }

  /** Removes the local folders that removing {@code stale} left empty, deepest first, up to {@code out} (kept). */
  static void removeEmptiedFolders(String out, List<String> stale) throws IOException {
    TreeSet<String> folders = new TreeSet<>(java.util.Comparator.comparingInt(String::length).reversed()
        .thenComparing(s -> s));
    for (String file : stale) {
      for (String d = file.substring(0, file.lastIndexOf('/')); d.length() > out.length(); d = d.substring(0, d.lastIndexOf('/'))) {
        folders.add(d);
      }
    }
    for (String folder : folders) {
      if (!StorageFiles.isLocal(folder)) {
        return; // object stores have no folders
      }
      try {
        Files.deleteIfExists(StorageFiles.localPath(folder));
      } catch (java.nio.file.DirectoryNotEmptyException e) {
        // still holds files of the new output, or a user's
      }
    }
  }

  /** The component folders an existing model_index.json names; none when it is missing or unreadable. */
  private static List<String> oldModelIndexFolders(String out) throws IOException {
    String file = out + "/" + MODEL_INDEX;
    if (!StorageFiles.exists(file)) {
      return List.of();
    }
    List<String> folders = new ArrayList<>();
    try {
      JsonNode index = new ObjectMapper().readTree(StorageFiles.readString(file, 1 << 20));
      for (Iterator<String> names = index.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!name.startsWith("_") && PLAIN_NAME.matcher(name).matches() && !name.contains("..")) {
          folders.add(name);
        }
      }
    } catch (IOException e) {
      return List.of(); // not a model index: its folders are not ours to judge
    }
    return folders;
  }

  /**
   * Fails, naming the folder, unless a file can be created and deleted in each folder the commit
   * will write or delete in (a probe file, removed at once): checked before the old marker goes, so
   * an output that cannot be replaced (no permission, a read-only or immutable folder, an HDFS quota,
   * an object store policy on the prefix) stays as it was, complete.
   */
  static void requireWritable(Collection<String> folders) throws IOException {
    for (String folder : new TreeSet<>(folders)) {
      String probe = probeFolder(folder) + "/" + PROBE_PREFIX + UUID.randomUUID();
      try {
        if (StorageFiles.isLocal(probe)) {
          Files.createFile(StorageFiles.localPath(probe));
          Files.delete(StorageFiles.localPath(probe));
        } else {
          StorageFiles.writeString(probe, "");
          StorageFiles.delete(List.of(probe));
        }
      } catch (IOException e) {
        throw new IOException(folder + ": cannot write there (" + e.getClass().getSimpleName() + " " + e.getMessage()
            + "); the existing output was left as it is", e);
      }
    }
  }

  /**
   * Removes the probe files a run killed between creating and deleting one left anywhere in {@code
   * out} (an output whose old marker, still valid, makes the next run skip it).
   */
  public static void removeLeftProbes(String out) throws IOException {
    List<String> probes = new ArrayList<>();
    for (String file : StorageFiles.list(out + "/**")) {
      if (file.substring(file.lastIndexOf('/') + 1).startsWith(PROBE_PREFIX)) {
        probes.add(file);
      }
    }
    if (!probes.isEmpty()) {
      StorageFiles.delete(probes);
    }
  }

  /**
   * Where the probe for {@code folder} goes, creating no folder: the folder itself, or, where it does
   * not exist yet (the move will create it), the nearest folder above that does. Object stores have
   * no folders (their policies judge the key prefix, the probe goes there); on HDFS, where Beam lists
   * files only, a folder counts as existing when it holds files.
   */
  private static String probeFolder(String folder) throws IOException {
    if (StorageFiles.isLocal(folder)) {
      Path dir = StorageFiles.localPath(folder);
      while (!Files.isDirectory(dir) && dir.getParent() != null) {
        dir = dir.getParent();
      }
      return dir.toString();
    }
    if (StorageFiles.isObjectStore(folder)) {
      return folder;
    }
    String dir = folder;
    while (StorageFiles.list(dir + "/*").isEmpty() && dir.indexOf('/', dir.indexOf("://") + 3) > 0) {
      dir = dir.substring(0, dir.lastIndexOf('/'));
    }
    return dir;
  }
}
