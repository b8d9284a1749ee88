package dev.grpcquic.testing;

import dev.grpcquic.QuicAttributes;
import io.grpc.Attributes;
import io.grpc.ServerTransportFilter;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;
import java.util.function.LongSupplier;

/** Counts a server's live connections (transports) through grpc-java's public transport filter. */
public final class ConnectionCounter extends ServerTransportFilter {
  private final AtomicInteger live = new AtomicInteger();
  private final AtomicInteger peak = new AtomicInteger();
  private final Set<LongSupplier> buffered = ConcurrentHashMap.newKeySet();

  @Override
  public Attributes transportReady(Attributes attributes) {
    peak.accumulateAndGet(live.incrementAndGet(), Math::max);
    LongSupplier bytes = attributes.get(QuicAttributes.RECEIVE_BUFFERED_BYTES);
    if (bytes != null) {
      buffered.add(bytes);
    }
    return attributes;
  }

  @Override
  public void transportTerminated(Attributes attributes) {
    live.decrementAndGet();
    buffered.remove(attributes.get(QuicAttributes.RECEIVE_BUFFERED_BYTES));
  }

  /** DATA payload the live connections hold received and not yet consumed by their calls. */
  public long bufferedBytes() {
    long sum = 0;
    for (LongSupplier bytes : buffered) {
      sum += bytes.getAsLong();
    }
    return sum;
  }

  /**
   * Polls until no live connection holds received bytes; false when the deadline passes first.
   * A call's end and the release of what it held run on different threads.
   */
  public boolean awaitNothingBuffered(long time, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(time);
    while (bufferedBytes() != 0) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval, not synchronisation
    }
    return true;
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
