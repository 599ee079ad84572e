package org.sat2diffusers.io.deepspeed;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.sat2diffusers.io.deepspeed.TorchSaveWriter.Ordered;
import org.sat2diffusers.io.deepspeed.TorchSaveWriter.Size;
import org.sat2diffusers.io.deepspeed.TorchSaveWriter.Storage;
import org.sat2diffusers.io.deepspeed.TorchSaveWriter.Tensor;

/**
 * Writes a ZeRO-2 engine checkpoint (dp = 2, bf16, one group) in the layout of
 * testdata/training/deepspeed/z2-dp2-bf16-full, large: {@code params} matrices of
 * {@link #ROWS} x {@link #COLS}, or parameters of any names and shapes; each rank's optimizer file
 * holds its fp32 partition plus exp_avg and exp_avg_sq, three times the partition. The element
 * values are a function of their index in the flat group, so the expected fp32 bytes of every
 * parameter can be hashed without the files. Public for the pipeline's memory test (io's test jar).
 */
public final class LargeZero2Checkpoint {
  static final long ROWS = 1024;
  static final long COLS = 1000;
  static final int WORLD_SIZE = 2;
  private static final int CHUNK_ELEMENTS = 1 << 18;

  private LargeZero2Checkpoint() {}

  /** The fp32 master value of flat element {@code i}; exp_avg and exp_avg_sq are shifted copies. */
  static float master(long i) {
    long mixed = (i * 0x9E3779B97F4A7C15L) >>> 40;
    return (mixed & 0xffff) / 65536f - 0.5f;
  }

  static String name(int p) {
    return "blocks." + p + ".weight";
  }

  /** Writes {@code folder/latest} and {@code folder/global_step3/*}; {@code params} x ROWS x COLS must be a multiple of 2 x dp. */
  static void write(Path folder, int params) throws IOException {
    write(folder, matrices(params));
  }

  /**
   * Writes {@code folder/latest} and {@code folder/global_step3/*} holding {@code shapes}' parameters, in
   * order, as one flat group; their elements must add up to a multiple of 2 x dp (no padding).
   */
  public static void write(Path folder, Map<String, List<Long>> shapes) throws IOException {
    long numel = 0;
    for (List<Long> shape : shapes.values()) {
      numel += shape.stream().reduce(1L, Math::multiplyExact);
    }
    if (numel % (2 * WORLD_SIZE) != 0) {
      throw new IllegalArgumentException("the group would need padding");
    }
    long partition = numel / WORLD_SIZE;
    Path tag = folder.resolve("global_step3");
    Files.createDirectories(tag);
    Files.writeString(folder.resolve("latest"), "global_step3");

    long all = numel;
    Storage flat16 = new Storage("0", "BFloat16Storage", 2, numel, out -> values(out, 0, all, 0f, true));
    Map<String, Object> module = new LinkedHashMap<>();
    Map<String, Object> paramShapes = new LinkedHashMap<>();
    long offset = 0;
    for (Map.Entry<String, List<Long>> param : shapes.entrySet()) {
      module.put(param.getKey(), new Tensor(flat16, offset, param.getValue()));
      paramShapes.put(param.getKey(), new Size(param.getValue()));
      offset += param.getValue().stream().reduce(1L, Math::multiplyExact);
    }
    Map<String, Object> states = new LinkedHashMap<>();
    states.put("module", new Ordered(module));
    states.put("buffer_names", List.of());
    states.put("optimizer", null);
    states.put("param_shapes", List.of(new Ordered(paramShapes)));
    states.put("frozen_param_shapes", null);
    states.put("shared_params", Map.of());
    states.put("frozen_param_fragments", null);
    states.put("global_steps", 3L);
    states.put("dp_world_size", (long) WORLD_SIZE);
    states.put("mp_world_size", 1L);
    states.put("ds_version", "0.16.5");
    TorchSaveWriter.save(states, tag.resolve("mp_rank_00_model_states.pt"));

    for (int r = 0; r < WORLD_SIZE; r++) {
      long start = r * partition;
      Storage master = new Storage("0", "FloatStorage", 4, partition, out -> values(out, start, partition, 0f, false));
      Storage expAvg = new Storage("1", "FloatStorage", 4, partition, out -> values(out, start, partition, 1000f, false));
      Storage expAvgSq = new Storage("2", "FloatStorage", 4, partition, out -> values(out, start, partition, 2000f, false));
      Map<Object, Object> paramState = new LinkedHashMap<>();
      paramState.put("step", 3L);
      paramState.put("exp_avg", new Tensor(expAvg, 0, List.of(partition)));
      paramState.put("exp_avg_sq", new Tensor(expAvgSq, 0, List.of(partition)));
      Map<Object, Object> base = new LinkedHashMap<>();
      base.put("state", Map.of(0L, paramState));
      base.put("param_groups", List.of());
      Map<String, Object> osd = new LinkedHashMap<>();
      osd.put("dynamic_loss_scale", Boolean.FALSE);
      osd.put("overflow", Boolean.FALSE);
      osd.put("base_optimizer_state", base);
      osd.put("single_partition_of_fp32_groups", List.of(new Tensor(master, 0, List.of(partition))));
      osd.put("zero_stage", 2L);
      osd.put("group_paddings", List.of(0L));
      osd.put("partition_count", List.of((long) WORLD_SIZE));
      osd.put("ds_version", "0.16.5");
      Map<String, Object> root = new LinkedHashMap<>();
      root.put("optimizer_state_dict", osd);
      root.put("ds_config", Map.of());
      root.put("ds_version", "0.16.5");
      TorchSaveWriter.save(root, tag.resolve("bf16_zero_pp_rank_" + r + "_mp_rank_00_optim_states.pt"));
    }
  }

  /** sha256 of each parameter's fp32 master bytes, by name, as the files above hold them. */
  static Map<String, String> expectedMasters(int params) {
    return expectedMasters(matrices(params));
  }

  /** sha256 of each parameter's fp32 master bytes, by name, as {@link #write(Path, Map)} writes them. */
  public static Map<String, String> expectedMasters(Map<String, List<Long>> shapes) {
    Map<String, String> expected = new LinkedHashMap<>();
    long offset = 0;
    for (Map.Entry<String, List<Long>> param : shapes.entrySet()) {
      long numel = param.getValue().stream().reduce(1L, Math::multiplyExact);
      MessageDigest digest = sha256();
      try {
        values(new java.security.DigestOutputStream(OutputStream.nullOutputStream(), digest), offset, numel, 0f, false);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      expected.put(param.getKey(), HexFormat.of().formatHex(digest.digest()));
      offset += numel;
    }
    return expected;
  }

  private static Map<String, List<Long>> matrices(int params) {
    Map<String, List<Long>> shapes = new LinkedHashMap<>();
    for (int p = 0; p < params; p++) {
      shapes.put(name(p), List.of(ROWS, COLS));
    }
    return shapes;
  }

  private static void values(OutputStream out, long start, long count, float shift, boolean bf16) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(CHUNK_ELEMENTS * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (long done = 0; done < count; ) {
      int n = (int) Math.min(CHUNK_ELEMENTS, count - done);
      chunk.clear();
      for (int k = 0; k < n; k++) {
        float v = master(start + done + k) + shift;
        if (bf16) {
          chunk.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
        } else {
          chunk.putFloat(v);
        }
      }
      out.write(chunk.array(), 0, chunk.position());
      done += n;
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
