package org.sat2diffusers.pipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sat2diffusers.io.deepspeed.LargeZero2Checkpoint;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsFile;
import org.sat2diffusers.io.storage.RandomAccessInput;
import org.sat2diffusers.io.storage.RandomAccessInputs;
import org.sat2diffusers.pipeline.Main;

/**
 * Issue 15, memory: a ZeRO-2 engine save of a CogVideoX transformer (hidden 960, 4 layers: 44 M
 * parameters, about 620 MB in all) whose optimizer partitions (~265 MB each) are each larger than the
 * heap converts with {@code --weights fp32-master} in a JVM of {@code -Xmx256m} that exits at the first
 * OutOfMemoryError; every written tensor is its fp32 master, byte for byte. The dry run of it reads
 * fewer bytes (the kernel's rchar) than the masters hold; the conversion reads them all.
 */
class ZeroMemoryTest {
  private static final String HEAP = "-Xmx256m";
  private static final long HIDDEN = 960;
  private static final long HEAD_DIM = 64;
  private static final long TIME_EMBED = 8;
  private static final int LAYERS = 4;
  private static final Pattern RCHAR = Pattern.compile("(?m)^rchar: (\\d+)$");

  @Test
  void fp32MastersOfPartitionsLargerThanTheHeapConvertUnder256Mb(@TempDir Path tmp) throws Exception {
    Map<String, List<Long>> shapes = transformer();
    Path source = tmp.resolve("zero");
    LargeZero2Checkpoint.write(source, shapes);
    for (int r = 0; r < 2; r++) {
      Path partition = source.resolve("global_step3/bf16_zero_pp_rank_" + r + "_mp_rank_00_optim_states.pt");
      assertTrue(Files.size(partition) > 256L << 20, partition + " should be larger than the heap");
    }
    long masterBytes = shapes.values().stream().mapToLong(s -> 4 * s.stream().reduce(1L, Math::multiplyExact)).sum();

    Path out = tmp.resolve("out");
    Child dryRun = convert(tmp, "dry-run", source, out, "--dry-run");
    assertFalse(Files.exists(out.resolve("transformer")), "the dry run wrote");
    Child conversion = convert(tmp, "convert", source, out);
    String numbers = String.format("masters %,d bytes; read by the dry run %,d, by the conversion %,d", masterBytes,
        dryRun.rchar, conversion.rchar);
    System.out.println("ZeRO memory test: " + numbers);
    assertTrue(dryRun.rchar < masterBytes, numbers);
    assertTrue(conversion.rchar >= masterBytes, numbers);

    Map<String, String> written = new LinkedHashMap<>();
    Path file = out.resolve("transformer/diffusion_pytorch_model.safetensors");
    try (RandomAccessInput in = RandomAccessInputs.open(file.toString())) {
      SafetensorsFile st = SafetensorsFile.open(in);
      for (SafetensorsEntry e : st.entries()) {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        try (InputStream tensor = new DigestInputStream(st.openTensor(e.name()), digest)) {
          tensor.transferTo(OutputStream.nullOutputStream());
        }
        written.put(e.name(), HexFormat.of().formatHex(digest.digest()));
      }
    }
    assertEquals(new TreeMap<>(LargeZero2Checkpoint.expectedMasters(shapes)), new TreeMap<>(written));
  }

  private record Child(String output, long rchar) {}

  /**
   * {@code convert} in a JVM of its own with the small heap, under a shell that then prints its
   * /proc/self/io: a reaped child's reads count into its parent's rchar.
   */
  private static Child convert(Path tmp, String name, Path source, Path out, String... extra) throws Exception {
    List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        HEAP, "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "convert", "--source", source.toString(), "--output", out.toString(), "--weights", "fp32-master",
        "--model", "cogvideox-2b"));
    java.addAll(List.of(extra));
    String command = String.join(" ", java.stream().map(ZeroMemoryTest::quoted).toList())
        + "; status=$?; cat /proc/$$/io; exit $status";
    Path log = tmp.resolve(name + ".log");
    Process child = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).redirectOutput(log.toFile())
        .start();
    assertTrue(child.waitFor(15, TimeUnit.MINUTES), name + ": the child JVM did not finish in 15 minutes");
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertFalse(output.contains("OutOfMemoryError"), output);
    assertEquals(0, child.exitValue(), output);
    Matcher rchar = RCHAR.matcher(output);
    assertTrue(rchar.find(), "no rchar in:\n" + output);
    return new Child(output, Long.parseLong(rchar.group(1)));
  }

  private static String quoted(String arg) {
    return "'" + arg.replace("'", "'\\''") + "'";
  }

  /** The Diffusers parameters of a CogVideoX-2B-like transformer (sincos positions) of {@link #HIDDEN}. */
  private static Map<String, List<Long>> transformer() {
    long h = HIDDEN;
    Map<String, List<Long>> s = new LinkedHashMap<>();
    s.put("patch_embed.proj.weight", List.of(h, 4L, 2L, 2L));
    s.put("patch_embed.proj.bias", List.of(h));
    s.put("patch_embed.text_proj.weight", List.of(h, 12L));
    s.put("patch_embed.text_proj.bias", List.of(h));
    s.put("time_embedding.linear_1.weight", List.of(TIME_EMBED, h));
    s.put("time_embedding.linear_1.bias", List.of(TIME_EMBED));
    s.put("time_embedding.linear_2.weight", List.of(TIME_EMBED, TIME_EMBED));
    s.put("time_embedding.linear_2.bias", List.of(TIME_EMBED));
    for (int l = 0; l < LAYERS; l++) {
      String b = "transformer_blocks." + l + ".";
      for (String norm : List.of("norm1", "norm2")) {
        s.put(b + norm + ".linear.weight", List.of(6 * h, TIME_EMBED));
        s.put(b + norm + ".linear.bias", List.of(6 * h));
        s.put(b + norm + ".norm.weight", List.of(h));
        s.put(b + norm + ".norm.bias", List.of(h));
      }
      for (String qk : List.of("norm_q", "norm_k")) {
        s.put(b + "attn1." + qk + ".weight", List.of(HEAD_DIM));
        s.put(b + "attn1." + qk + ".bias", List.of(HEAD_DIM));
      }
      for (String proj : List.of("to_q", "to_k", "to_v", "to_out.0")) {
        s.put(b + "attn1." + proj + ".weight", List.of(h, h));
        s.put(b + "attn1." + proj + ".bias", List.of(h));
      }
      s.put(b + "ff.net.0.proj.weight", List.of(4 * h, h));
      s.put(b + "ff.net.0.proj.bias", List.of(4 * h));
      s.put(b + "ff.net.2.weight", List.of(h, 4 * h));
      s.put(b + "ff.net.2.bias", List.of(h));
    }
    s.put("norm_final.weight", List.of(h));
    s.put("norm_final.bias", List.of(h));
    s.put("norm_out.linear.weight", List.of(2 * h, TIME_EMBED));
    s.put("norm_out.linear.bias", List.of(2 * h));
    s.put("norm_out.norm.weight", List.of(h));
    s.put("norm_out.norm.bias", List.of(h));
    s.put("proj_out.weight", List.of(16L, h));
    s.put("proj_out.bias", List.of(16L));
    return s;
  }
}
