package dev.grpcquic.engine.kwik;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Executors for the kwik engine's blocking work (stream reads, writes, stream creation, connect). */
public final class KwikExecutors {

  private KwikExecutors() {}

  /**
   * A cached pool of daemon threads named {@code namePrefix-N}. kwik's stream reads and writes block
   * a thread each, so the pool is unbounded; idle threads end after 30 s.
   */
  public static ExecutorService newBlockingExecutor(String namePrefix) {
    return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
        new SynchronousQueue<>(), daemonThreadFactory(namePrefix));
  }

  static ThreadFactory daemonThreadFactory(String namePrefix) {
    AtomicInteger counter = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, namePrefix + "-" + counter.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
