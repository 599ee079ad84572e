package org.sat2diffusers.pipeline.write;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.sat2diffusers.io.safetensors.Digest;
import org.sat2diffusers.io.safetensors.SafetensorsEntry;
import org.sat2diffusers.io.safetensors.SafetensorsHeader;
import org.sat2diffusers.io.safetensors.SafetensorsWriter;
import org.sat2diffusers.io.storage.S3MultipartUpload;
import org.sat2diffusers.io.storage.SourceOpener;
import org.sat2diffusers.transforms.records.OutputTensor;

/**
 * A shard on S3 as one multipart upload whose parts several threads assemble and send at once. A
 * part is a run of whole tensors in layout order (the first also holds the header) of at least
 * {@value #PART_BYTES} bytes, except that the last part takes whatever is left (its own if that is
 * at least S3's 5 MiB, else merged into the one before): the object is byte for byte the file a
 * sequential write makes. Each thread holds one part in memory at a time, in a buffer it reuses.
 */
final class S3ShardUpload {
  /** Parts this size or more keep the requests few and the memory per thread bounded (bar one huge tensor). */
  static final long PART_BYTES = 16L << 20;
  /** Parts in flight: each thread assembles its part from the sources, then waits for the store. */
  private static final int THREADS = 4;

  private S3ShardUpload() {}

  /** One part: the tensors {@code [first, last)} of the layout, the file's bytes {@code [start, end)}. */
  record Part(int first, int last, long start, long end) {
    int length() {
      return Math.toIntExact(end - start);
    }
  }

  /** The parts of a file laid out as {@code header} says. */
  static List<Part> parts(SafetensorsHeader header, long partBytes) {
    List<SafetensorsEntry> entries = header.entries();
    List<Part> parts = new ArrayList<>();
    int first = 0;
    long start = 0;
    for (int i = 0; i < entries.size(); i++) {
      long end = entries.get(i).end();
      if (end - start >= partBytes) {
        parts.add(new Part(first, i + 1, start, end));
        first = i + 1;
        start = end;
      }
    }
    long size = header.fileSize();
    if (parts.isEmpty() || start < size && size - start >= S3MultipartUpload.MIN_PART_BYTES) {
      parts.add(new Part(first, entries.size(), start, size));
    } else if (start < size || first < entries.size()) {
      Part previous = parts.remove(parts.size() - 1);
      parts.add(new Part(previous.first(), entries.size(), previous.start(), size));
    }
    return parts;
  }

  /** Whether {@code tensors} make parts an array can hold (a tensor of 2 GiB or more does not). */
  static boolean fits(List<OutputTensor> tensors, Map<String, String> metadata) {
    return parts(ShardFileWriter.header(tensors, metadata), PART_BYTES).stream()
        .allMatch(p -> p.end() - p.start() <= Integer.MAX_VALUE - 16);
  }

  /**
   * Uploads the shard {@code path} (s3://bucket/key); the same bytes as {@link ShardFileWriter#write}.
   * With a {@code finalPath}, the upload goes there instead and is left open for the commit, recorded
   * at {@code path} ({@link PendingShardUpload}).
   */
  static ShardFileWriter.Written write(String path, String finalPath, List<OutputTensor> tensors,
      Map<String, String> metadata, SourceOpener opener, Digest digest) throws IOException {
    SafetensorsHeader header = ShardFileWriter.header(tensors, metadata);
    Map<String, OutputTensor> byName = ShardFileWriter.byName(tensors);
    List<Part> parts = parts(header, PART_BYTES);
    AtomicReferenceArray<byte[]> buffers = new AtomicReferenceArray<>(parts.size());
    buffers.set(0, new byte[parts.get(0).length()]); // the writer puts the header there at once
    long[] starts = parts.stream().mapToLong(Part::start).toArray();
    SafetensorsWriter.PositionalTarget target = (bytes, position) -> {
      int index = partAt(starts, position);
      bytes.get(buffers.get(index), Math.toIntExact(position - starts[index]), bytes.remaining());
    };
    if (finalPath != null) {
      PendingShardUpload.abortEarlierAttempt(path, finalPath); // e.g. a Spark task that ran on an executor since lost
    }
    try (S3MultipartUpload upload = S3MultipartUpload.start(finalPath != null ? finalPath : path,
        "application/octet-stream")) {
      if (finalPath != null) {
        PendingShardUpload.record(path, finalPath, upload, -1);
      }
      SafetensorsWriter writer = SafetensorsWriter.positional(path, header, target, digest);
      List<SafetensorsEntry> entries = header.entries();
      AtomicInteger next = new AtomicInteger();
      AtomicBoolean failed = new AtomicBoolean();
      int workers = Math.min(THREADS, parts.size());
      ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
        Thread t = new Thread(r, "shard-upload " + path);
        t.setDaemon(true);
        return t;
      });
      try {
        List<Future<Void>> running = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
          running.add(pool.submit(() -> {
            // reused from part to part (no garbage of tens of MB per part): a part is written whole,
            // header and tensors being contiguous, so nothing of the one before survives in what is sent
            byte[] own = null;
            try (TensorAssembler assembler = new TensorAssembler(opener)) {
              for (int p = next.getAndIncrement(); p < parts.size() && !failed.get(); p = next.getAndIncrement()) {
                Part part = parts.get(p);
                if (p > 0) {
                  buffers.set(p, own != null && own.length >= part.length() ? own : new byte[part.length()]);
                }
                for (int i = part.first(); i < part.last(); i++) {
                  ShardFileWriter.writeTensor(writer, assembler, byName.get(entries.get(i).name()));
                }
                own = buffers.getAndSet(p, null);
                upload.uploadPart(p + 1, own, part.length());
              }
            } catch (IOException | RuntimeException e) {
              failed.set(true);
              throw e;
            }
            return null;
          }));
        }
        ShardFileWriter.awaitAll(running);
      } finally {
        pool.shutdownNow();
      }
      SafetensorsWriter.Written written = writer.finish();
      if (finalPath != null) {
        PendingShardUpload.record(path, finalPath, upload, written.fileSize());
        upload.keepOpen();
      } else {
        upload.complete(written.fileSize());
      }
      return new ShardFileWriter.Written(written.fileSize(), written.headerDigest().orElse(null),
          written.tensorDigests());
    }
  }

  /** The index of the part holding byte {@code position}. */
  private static int partAt(long[] starts, long position) {
    int i = Arrays.binarySearch(starts, position);
    return i >= 0 ? i : -i - 2;
  }
}
