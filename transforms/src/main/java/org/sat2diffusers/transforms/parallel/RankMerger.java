package org.sat2diffusers.transforms.parallel;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sat2diffusers.io.dtype.Dtype;
import org.sat2diffusers.io.storage.ByteRange;
import org.sat2diffusers.io.torch.TensorRecord;
import org.sat2diffusers.transforms.parallel.ParallelLayout.Partition;
import org.sat2diffusers.transforms.records.SourceTensor;

/**
 * Merges the model-parallel rank files of one iteration ({@code mp_rank_00 … mp_rank_NN}) into one
 * model before any conversion rule sees it, following {@link ParallelLayout}: split layers become
 * byte-range recipes over the ranks' files (no arithmetic), replicated tensors are taken from rank 0
 * and listed for {@link ReplicaCheck}. Files that are not ranks (the released layout's VAE) pass
 * through. Reads no tensor bytes.
 */
public final class RankMerger {
  private static final Pattern RANK_FILE = Pattern.compile("mp_rank_(\\d+)_model_states\\.pt");

  private RankMerger() {}

  /** @param sources every tensor of the checkpoint with its file, files in order, each in state-dict order */
  public static RankedSources merge(List<SourceTensor> sources) {
    Map<String, List<SourceTensor>> byFile = new LinkedHashMap<>();
    for (SourceTensor s : sources) {
      byFile.computeIfAbsent(s.file(), f -> new ArrayList<>()).add(s);
    }
    List<String> rankFiles = new ArrayList<>(byFile.keySet().stream().filter(f -> rank(f) >= 0).toList());
    if (rankFiles.size() <= 1) {
      return new RankedSources(sources, List.of(), 1);
    }
    rankFiles.sort(Comparator.comparingInt(RankMerger::rank));
    checkRanks(rankFiles);
    List<SourceTensor> out = new ArrayList<>();
    List<ReplicatedTensor> replicated = new ArrayList<>();
    for (Map.Entry<String, List<SourceTensor>> file : byFile.entrySet()) {
      if (file.getKey().equals(rankFiles.get(0))) {
        out.addAll(mergeRanks(rankFiles, rankFiles.stream().map(byFile::get).toList(), replicated));
      } else if (rank(file.getKey()) < 0) {
        out.addAll(file.getValue());
      }
    }
    return new RankedSources(out, replicated, rankFiles.size());
  }

  private static List<SourceTensor> mergeRanks(
      List<String> files, List<List<SourceTensor>> ranks, List<ReplicatedTensor> replicated) {
    List<Map<String, SourceTensor>> byKey = new ArrayList<>();
    for (List<SourceTensor> rank : ranks) {
      Map<String, SourceTensor> keyed = new LinkedHashMap<>();
      rank.forEach(t -> keyed.put(t.key(), t));
      byKey.add(keyed);
    }
    checkSameKeys(files, byKey);
    List<SourceTensor> out = new ArrayList<>();
    for (String key : byKey.get(0).keySet()) {
      List<SourceTensor> slices = byKey.stream().map(m -> m.get(key)).toList();
      if (ParallelLayout.LORA_KEY.matcher(key).find()) {
        throw new IllegalArgumentException(files.get(0) + ": '" + key + "' is a SAT lora2 tensor in a checkpoint of "
            + files.size() + " model-parallel ranks, which cannot be merged: lora2 keeps A and B per rank and adds"
            + " a row-parallel layer's update (attention.dense) to the all-reduced output without reducing it, so"
            + " the ranks do not hold one model. Convert a LoRA checkpoint saved with model parallel size 1");
      }
      checkSameDtype(key, slices);
      Partition p = ParallelLayout.of(key);
      switch (p.split()) {
        case COLUMN -> out.add(mergeColumns(key, slices, p.stride()));
        case ROW -> out.add(mergeRows(key, slices));
        case REPLICATED -> {
          checkSameShape(key, slices, "replicated");
          replicated.add(new ReplicatedTensor(key, slices));
          out.add(slices.get(0));
        }
      }
    }
    return out;
  }

  /** Output-dimension slices: for each of the {@code stride} fused parts, every rank's slice of it in rank order. */
  private static SourceTensor mergeColumns(String key, List<SourceTensor> slices, int stride) {
    checkSameShape(key, slices, "column-parallel");
    List<Long> shape = slices.get(0).tensor().shape();
    long rows = shape.isEmpty() ? 0 : shape.get(0);
    if (rows == 0 || rows % stride != 0) {
      throw new IllegalArgumentException(slices.get(0).file() + ": column-parallel '" + key + "' " + shape
          + " does not split into " + stride + " equal parts along dim 0");
    }
    long partBytes = slices.get(0).tensor().byteLength() / stride;
    List<ByteRange> ranges = new ArrayList<>();
    for (int part = 0; part < stride; part++) {
      for (SourceTensor slice : slices) {
        ByteRange all = slice.byteRange();
        ranges.add(new ByteRange(all.file(), all.offset() + part * partBytes, partBytes));
      }
    }
    List<Long> merged = new ArrayList<>(shape);
    merged.set(0, rows * slices.size());
    return merged(slices.get(0), merged, ranges);
  }

  /** Input-dimension slices: row i of the merged weight is every rank's row i, in rank order. */
  private static SourceTensor mergeRows(String key, List<SourceTensor> slices) {
    checkSameShape(key, slices, "row-parallel");
    List<Long> shape = slices.get(0).tensor().shape();
    if (shape.size() != 2) {
      throw new IllegalArgumentException(
          slices.get(0).file() + ": row-parallel '" + key + "' has shape " + shape + ", expected [out, in / ranks]");
    }
    long rowBytes = shape.get(1) * slices.get(0).tensor().dtype().size();
    List<ByteRange> whole = slices.stream().map(SourceTensor::byteRange).toList();
    List<ByteRange> ranges = new ArrayList<>();
    for (long row = 0; row < shape.get(0); row++) {
      for (ByteRange r : whole) {
        ranges.add(new ByteRange(r.file(), r.offset() + row * rowBytes, rowBytes));
      }
    }
    return merged(slices.get(0), List.of(shape.get(0), shape.get(1) * slices.size()), ranges);
  }

  /** A contiguous record of the merged shape (describing rank 0's first byte); its bytes are {@code ranges}. */
  private static SourceTensor merged(SourceTensor rank0, List<Long> shape, List<ByteRange> ranges) {
    TensorRecord t = rank0.tensor();
    List<Long> stride = new ArrayList<>(shape);
    long next = 1;
    for (int i = shape.size() - 1; i >= 0; i--) {
      stride.set(i, next);
      next *= shape.get(i);
    }
    long bytes = ranges.stream().mapToLong(ByteRange::length).sum();
    TensorRecord record = new TensorRecord(
        t.key(), t.dtype(), shape, stride, t.storageKey(), 0, t.fileOffset(), bytes, List.of());
    return new SourceTensor(rank0.file(), record, ranges);
  }

  private static void checkRanks(List<String> files) {
    String folder = parent(files.get(0));
    for (int i = 0; i < files.size(); i++) {
      if (rank(files.get(i)) != i || !parent(files.get(i)).equals(folder)) {
        throw new IllegalArgumentException(String.format(
            "model-parallel rank files must be mp_rank_00 … mp_rank_%02d of one folder, found %s", files.size() - 1, files));
      }
    }
  }

  private static void checkSameKeys(List<String> files, List<Map<String, SourceTensor>> byKey) {
    for (int r = 1; r < byKey.size(); r++) {
      for (int[] pair : new int[][] {{0, r}, {r, 0}}) {
        for (String key : byKey.get(pair[0]).keySet()) {
          if (!byKey.get(pair[1]).containsKey(key)) {
            throw new IllegalArgumentException(String.format(
                "'%s' is in rank %02d (%s) but not in rank %02d (%s): every model-parallel rank holds the same keys",
                key, pair[0], files.get(pair[0]), pair[1], files.get(pair[1])));
          }
        }
      }
    }
  }

  private static void checkSameDtype(String key, List<SourceTensor> slices) {
    Dtype first = slices.get(0).tensor().dtype();
    for (int r = 1; r < slices.size(); r++) {
      if (slices.get(r).tensor().dtype() != first) {
        throw new IllegalArgumentException(String.format("'%s' is %s on rank 00 (%s) but %s on rank %02d (%s)",
            key, first, slices.get(0).file(), slices.get(r).tensor().dtype(), r, slices.get(r).file()));
      }
    }
  }

  private static void checkSameShape(String key, List<SourceTensor> slices, String what) {
    List<Long> first = slices.get(0).tensor().shape();
    for (int r = 1; r < slices.size(); r++) {
      if (!slices.get(r).tensor().shape().equals(first)) {
        throw new IllegalArgumentException(String.format(
            "%s '%s' has shape %s on rank 00 (%s) but %s on rank %02d (%s)", what, key, first, slices.get(0).file(),
            slices.get(r).tensor().shape(), r, slices.get(r).file()));
      }
    }
  }

  /** The rank of a {@code mp_rank_XX_model_states.pt} file, or -1 for any other file. */
  static int rank(String file) {
    Matcher m = RANK_FILE.matcher(file.substring(file.lastIndexOf('/') + 1));
    return m.matches() ? Integer.parseInt(m.group(1)) : -1;
  }

  private static String parent(String file) {
    return file.substring(0, Math.max(file.lastIndexOf('/'), 0));
  }
}
