package org.sat2diffusers.pipeline.storage;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.options.PipelineOptions;
import org.sat2diffusers.io.json.PythonJson;
import org.sat2diffusers.io.storage.StorageFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exclusive lock on one output folder ({@code OUT/.sat2diffusers-lock}), held by the driver
 * from before anything is staged until after the commit marker: two runs never write the same
 * output at once. The lock file says who holds it (host, process, run) and until when: the holder
 * renews that lease while it runs, so a lock whose holder died (its process gone on this host, or
 * its lease expired) is taken over, with a warning. A live holder's lock is waited for, up to a
 * bound, then the checkpoint is given up ({@link Busy}).
 */
public final class OutputLock implements AutoCloseable {
  public static final String FILE = ".sat2diffusers-lock";
  /** How long a lock stays valid without renewal: a holder on another host that died is taken over after this. */
  static final Duration LEASE = Duration.ofMinutes(10);
  private static final Logger LOG = LoggerFactory.getLogger(OutputLock.class);
  private static final ScheduledExecutorService RENEWALS = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "sat2diffusers-lock-renewal");
    t.setDaemon(true);
    return t;
  });

  private final String file;
  private final String outputDir;
  private final boolean createdFolder;
  private final LockStore store;
  private final Holder holder;
  private final java.util.concurrent.ScheduledFuture<?> renewal;

  private OutputLock(String outputDir, boolean createdFolder, String file, LockStore store, Holder holder) {
    this.outputDir = outputDir;
    this.createdFolder = createdFolder;
    this.file = file;
    this.store = store;
    this.holder = holder;
    long every = LEASE.toMillis() / 3;
    this.renewal = RENEWALS.scheduleAtFixedRate(this::renew, every, every, TimeUnit.MILLISECONDS);
  }

  /** Another live run holds the lock: this output is left alone. */
  public static final class Busy extends IOException {
    Busy(String message) {
      super(message);
    }
  }

  /**
   * Takes the lock of {@code outputDir}, waiting up to {@code wait} for a live holder to release it.
   *
   * @throws Busy when a live run still holds it after {@code wait}
   */
  public static OutputLock acquire(String outputDir, PipelineOptions options, Duration wait) throws IOException {
    String file = outputDir + "/" + FILE;
    LockStore store = LockStore.of(file, options);
    Holder mine = Holder.now();
    boolean createdFolder = !store.folderExists(outputDir);
    long deadline = System.nanoTime() + wait.toNanos();
    while (true) {
      if (store.createIfAbsent(file, mine.render())) {
        sleep(store.settle().toMillis());
        if (isMine(store, file, mine)) {
          return new OutputLock(outputDir, createdFolder, file, store, mine);
        }
      }
      Optional<String> text = store.read(file);
      if (text.isEmpty()) {
        continue; // released meanwhile
      }
      Optional<Holder> other = Holder.parse(text.get());
      if (other.isPresent() && other.get().run.equals(mine.run)) { // created, though the store's answer was lost
        return new OutputLock(outputDir, createdFolder, file, store, mine);
      }
      String stale = other.map(Holder::staleBecause).orElse(unreadableStale(file));
      if (stale != null) {
        takeOver(store, file, text.get(), stale, mine);
        continue;
      }
      if (System.nanoTime() >= deadline) {
        throw new Busy(outputDir + " is being written by another run (" + other.map(Holder::describe).orElse("?")
            + "; lock file " + file + "): this checkpoint is left to it. Run again once it has finished,"
            + " or delete the lock file if that run is gone");
      }
      sleep(Math.min(1000, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
    }
  }

  /** An object store may let two conditional PUTs of the same key both through: only the one whose text stayed holds it. */
  private static boolean isMine(LockStore store, String file, Holder mine) throws IOException {
    return store.read(file).flatMap(Holder::parse).map(h -> h.run.equals(mine.run)).orElse(false);
  }

  /** A lock file that cannot be read as one is stale once its lease would have run out. */
  private static String unreadableStale(String file) {
    try {
      long age = System.currentTimeMillis() - StorageFiles.fingerprint(file).lastModifiedMillis();
      return age > LEASE.toMillis() ? "it is unreadable and " + age / 1000 + " s old" : null;
    } catch (IOException e) {
      return null; // gone meanwhile: the next round finds out
    }
  }

  private static void takeOver(LockStore store, String file, String seen, String because, Holder mine)
      throws IOException {
    if (store.takeOver(file, seen, mine.render())) {
      LOG.warn("taking over the lock {} of a run that is gone ({}): {}", file, because, seen.strip());
    }
    sleep(store.settle().toMillis()); // a rival's takeover may land late (S3Proxy): the next read shows who holds it
  }

  private void renew() {
    try {
      if (isMine(store, file, holder)) {
        StorageFiles.writeStringAtomically(file, holder.renewed().render());
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("cannot renew the lock {}: {}", file, e.getMessage());
    }
  }

  /** Releases the lock, if it is still this run's. */
  @Override
  public void close() throws IOException {
    renewal.cancel(false);
    if (isMine(store, file, holder)) {
      StorageFiles.delete(List.of(file));
      if (createdFolder) {
        store.removeFolderIfEmpty(outputDir);
      }
    }
  }

  private static void sleep(long millis) throws IOException {
    if (millis <= 0) {
      return;
    }
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for an output lock", e);
    }
  }

  /** Who holds a lock, and until when unless renewed. */
  private record Holder(String run, String host, long pid, String since, long expiresAtMillis) {
    static Holder now() {
      return new Holder(UUID.randomUUID().toString(), thisHost(), ProcessHandle.current().pid(),
          Instant.now().toString(), System.currentTimeMillis() + LEASE.toMillis());
    }

    Holder renewed() {
      return new Holder(run, host, pid, since, System.currentTimeMillis() + LEASE.toMillis());
    }

    String render() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("run", run);
      m.put("host", host);
      m.put("pid", pid);
      m.put("since", since);
      m.put("expires_at_ms", expiresAtMillis);
      return PythonJson.dumps(m, true) + "\n";
    }

    @SuppressWarnings("unchecked")
    static Optional<Holder> parse(String text) {
      try {
        Map<String, Object> m = (Map<String, Object>) PythonJson.parse(text);
        return Optional.of(new Holder((String) m.get("run"), (String) m.get("host"), ((Number) m.get("pid")).longValue(),
            (String) m.get("since"), ((Number) m.get("expires_at_ms")).longValue()));
      } catch (Exception e) {
        return Optional.empty();
      }
    }

    /** Why the holder is gone, or null when it may still be running. */
    String staleBecause() {
      if (host.equals(thisHost()) && ProcessHandle.of(pid).isEmpty()) {
        return "process " + pid + " on " + host + " has ended";
      }
      if (System.currentTimeMillis() > expiresAtMillis) {
        return "its lease ran out at " + Instant.ofEpochMilli(expiresAtMillis);
      }
      return null;
    }

    String describe() {
      return "process " + pid + " on " + host + ", since " + since;
    }

    private static String thisHost() {
      try {
        return InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        return "unknown";
      }
    }
  }
}
