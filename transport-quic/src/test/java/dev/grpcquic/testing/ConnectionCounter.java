package dev.grpcquic.testing;

import io.grpc.Attributes;
import io.grpc.ServerTransportFilter;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

/** Counts a server's live connections (transports) through grpc-java's public transport filter. */
public final class ConnectionCounter extends ServerTransportFilter {
  private final AtomicInteger live = new AtomicInteger();
  private final AtomicInteger peak = new AtomicInteger();

  @Override
  public Attributes transportReady(Attributes attributes) {
    peak.accumulateAndGet(live.incrementAndGet(), Math::max);
    return attributes;
  }

  @Override
  public void transportTerminated(Attributes attributes) {
    live.decrementAndGet();
  }

  public int live() {
    return live.get();
  }

  public int peak() {
    return peak.get();
  }

  /** Polls until the live count satisfies {@code condition}; false when the deadline passes first. */
  public boolean await(IntPredicate condition, long time, TimeUnit unit)
      throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(time);
    while (!condition.test(live.get())) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval, not synchronisation
    }
    return true;
  }
}
