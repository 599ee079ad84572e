package org.sat2diffusers.io.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Keeps the disk writing while a file is being filled: a thread of its own forces the channel's
 * data to disk again and again, so writeback runs alongside the copying and the final force only
 * waits for the tail. Left alone, Linux starts writeback only once gigabytes are dirty, and a
 * conversion would copy first and then wait for the whole file, as {@code cp} then {@code sync} does.
 *
 * <p>A failed force is kept and rethrown by {@link #close}: the kernel reports a writeback error to
 * one fsync only, so the caller's final force could not be trusted to see it.
 */
public final class WritebackFlusher implements AutoCloseable {
  private static final long PAUSE_MILLIS = 20;

  private final FileChannel channel;
  private final Thread thread;
  private final AtomicReference<IOException> failure = new AtomicReference<>();
  private volatile boolean running = true;

  private WritebackFlusher(FileChannel channel, String name) {
    this.channel = channel;
    this.thread = new Thread(this::run, "writeback " + name);
    this.thread.setDaemon(true);
  }

  /** Starts forcing {@code channel} until {@link #close}; {@code name} names the thread. */
  public static WritebackFlusher start(FileChannel channel, String name) {
    WritebackFlusher flusher = new WritebackFlusher(channel, name);
    flusher.thread.start();
    return flusher;
  }

  private void run() {
    try {
      while (running) {
        channel.force(false);
        Thread.sleep(PAUSE_MILLIS);
      }
    } catch (IOException e) {
      failure.set(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops the thread; throws what a force failed with, if one did. */
  @Override
  public void close() throws IOException {
    running = false;
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while stopping the writeback of a file", e);
    }
    IOException failed = failure.get();
    if (failed != null) {
      throw new IOException("writing to disk failed: " + failed.getMessage(), failed);
    }
  }
}
