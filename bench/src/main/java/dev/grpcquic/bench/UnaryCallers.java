package dev.grpcquic.bench;

import io.grpc.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Daemon threads making blocking 1 KiB unary calls back to back until closed; a failed call
 * stops them all and is kept for the report.
 */
final class UnaryCallers implements AutoCloseable {
  private final AtomicLong calls = new AtomicLong();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();

  UnaryCallers(Channel channel, int count, String namePrefix) {
    for (int i = 0; i < count; i++) {
      Thread t = new Thread(() -> {
        try {
          while (!stop.get() && failure.get() == null) {
            GrpcBench.unary(channel);
            calls.incrementAndGet();
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      }, namePrefix + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  /** Calls completed so far. */
  long calls() {
    return calls.get();
  }

  /** The first failed call, or null. */
  Throwable failure() {
    return failure.get();
  }

  /** Stops the callers and waits for their calls in flight. */
  @Override
  public void close() throws InterruptedException {
    stop.set(true);
    for (Thread t : threads) {
      t.join(35_000);
    }
  }
}
