package org.sat2diffusers.pipeline.verify;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one file's check with a time limit, so a file that never answers (a FIFO swapped in after it
 * was looked at, a hung mount, a stalled store) costs its limit and a finding, not the whole verify.
 * A check past its limit is interrupted and abandoned on its (daemon) thread; the next runs on a
 * fresh one.
 */
final class TimeBound implements AutoCloseable {
  private ExecutorService thread = newThread();

  /** {@code task}'s result; a {@link TimeoutException} when it runs past {@code limit}. */
  <T> T run(Duration limit, Callable<T> task) throws IOException, TimeoutException {
    Future<T> result = thread.submit(task);
    try {
      return result.get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      result.cancel(true);
      thread.shutdownNow();
      thread = newThread();
      throw e;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }

  private static ExecutorService newThread() {
    return Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "verify-file");
      t.setDaemon(true); // one stuck in open() of a FIFO must not keep the JVM alive
      return t;
    });
  }
}
