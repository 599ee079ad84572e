package org.sat2diffusers.pipeline.write;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsHeader;
import org.sat2diffusers.io.safetensors.SafetensorsWriter;
import org.sat2diffusers.io.safetensors.TensorSpec;
import org.sat2diffusers.io.storage.WritebackFlusher;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.pipeline.write.TensorAssembler;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * Writes one safetensors file from tensor recipes: the header first (computed from the recipes),
 * then each tensor's bytes assembled from range reads of the sources, with a digest of the header
 * and of each tensor. Into any channel the tensors stream one after the other; into a local file
 * several threads write tensors at their planned offsets at once (plain copies zero-copy) while the
 * disk writes back alongside, and the file is synced before returning.
 */
public final class ShardFileWriter {
  /**
   * What was written: file size, the digest of the header's bytes and of each tensor's (together:
   * every byte); without a digest, null and empty.
   */
  public record Written(long fileBytes, String headerDigest, Map<String, String> tensorDigests) {}

  private ShardFileWriter() {}

  /**
   * @param label the destination's path, for messages
   * @param out the destination, written from its start in file order; not closed here
   */
  public static Written write(String label, List<OutputTensor> tensors, Map<String, String> metadata,
      SourceOpener opener, WritableByteChannel out, Digest digest) throws IOException {
    Map<String, OutputTensor> byName = byName(tensors);
    SafetensorsHeader header = header(tensors, metadata);
    SafetensorsWriter writer =
        SafetensorsWriter.sequential(label, header, out, digest);
    try (TensorAssembler assembler = new TensorAssembler(opener)) {
      for (SafetensorsEntry e : header.entries()) {
        writeTensor(writer, assembler, byName.get(e.name()));
      }
    }
    return written(writer.finish());
  }

  /**
   * Writes the local {@code file} (created or replaced, its folder created) with {@code threads}
   * threads, each taking the next tensor in layout order and its own source inputs from {@code
   * opener} (which must therefore be thread-safe), while a {@link WritebackFlusher} keeps the disk
   * writing. Returns once the file's data is on disk.
   */
  public static Written writeLocal(Path file, List<OutputTensor> tensors, Map<String, String> metadata,
      SourceOpener opener, int threads, Digest digest) throws IOException {
    Map<String, OutputTensor> byName = byName(tensors);
    SafetensorsHeader header = header(tensors, metadata);
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      SafetensorsWriter writer =
          SafetensorsWriter.positional(file, header, channel, digest);
      List<SafetensorsEntry> entries = header.entries();
      AtomicInteger next = new AtomicInteger();
      AtomicBoolean failed = new AtomicBoolean();
      int workers = Math.max(1, Math.min(threads, entries.size()));
      ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
        Thread t = new Thread(r, "shard-writer " + file.getFileName());
        t.setDaemon(true);
        return t;
      });
      try (WritebackFlusher flusher = WritebackFlusher.start(channel, file.getFileName().toString())) {
        List<Future<Void>> running = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
          running.add(pool.submit(() -> {
            try (TensorAssembler assembler = new TensorAssembler(opener)) {
              for (int i = next.getAndIncrement(); i < entries.size() && !failed.get(); i = next.getAndIncrement()) {
                writeTensor(writer, assembler, byName.get(entries.get(i).name()));
              }
            } catch (IOException | RuntimeException e) {
              failed.set(true);
              throw e;
            }
            return null;
          }));
        }
        awaitAll(running);
      } finally {
        pool.shutdownNow();
      }
      Written written = written(writer.finish());
      channel.force(true); // the commit marker must never point at data still in the page cache
      return written;
    }
  }

  static void writeTensor(SafetensorsWriter writer, TensorAssembler assembler, OutputTensor tensor)
      throws IOException {
    try (OutputStream tensorOut = writer.tensor(tensor.name())) {
      assembler.write(tensor, tensorOut);
    }
  }

  /** Waits for every worker; rethrows the first failure with the others suppressed. */
  static void awaitAll(List<Future<Void>> running) throws IOException {
    Throwable first = null;
    for (Future<Void> f : running) {
      try {
        f.get();
      } catch (ExecutionException e) {
        if (first == null) {
          first = e.getCause();
        } else if (first != e.getCause()) {
          first.addSuppressed(e.getCause());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while writing a shard", e);
      }
    }
    if (first instanceof IOException io) {
      throw io;
    }
    if (first instanceof RuntimeException re) {
      throw re;
    }
    if (first instanceof Error err) {
      throw err;
    }
  }

  static SafetensorsHeader header(List<OutputTensor> tensors, Map<String, String> metadata) {
    List<TensorSpec> specs = new ArrayList<>(tensors.size());
    for (OutputTensor t : tensors) {
      specs.add(new TensorSpec(t.name(), t.dtype(), t.shape()));
    }
    return SafetensorsHeader.plan(specs, metadata);
  }

  static Map<String, OutputTensor> byName(List<OutputTensor> tensors) {
    Map<String, OutputTensor> byName = new HashMap<>();
    for (OutputTensor t : tensors) {
      byName.put(t.name(), t);
    }
    return byName;
  }

  private static Written written(SafetensorsWriter.Written w) {
    return new Written(w.fileSize(), w.headerDigest().orElse(null), w.tensorDigests());
  }
}
