package dev.grpcquic.testing;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Counts a server's calls in flight (and the most ever at once) through a stream tracer. */
public final class CallCounter extends ServerStreamTracer.Factory {
  private final AtomicInteger live = new AtomicInteger();
  private final AtomicInteger peak = new AtomicInteger();
  private final AtomicLong started = new AtomicLong();
  private final Map<String, AtomicLong> startedByMethod = new ConcurrentHashMap<>();

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    started.incrementAndGet();
    startedByMethod.computeIfAbsent(fullMethodName, m -> new AtomicLong()).incrementAndGet();
    peak.accumulateAndGet(live.incrementAndGet(), Math::max);
    return new ServerStreamTracer() {
      @Override
      public void streamClosed(Status status) {
        live.decrementAndGet();
      }
    };
  }

  public int live() {
    return live.get();
  }

  public int peak() {
    return peak.get();
  }

  public long started() {
    return started.get();
  }

  /** Calls of one method the server has seen (their HEADERS arrived). */
  public long started(MethodDescriptor<?, ?> method) {
    AtomicLong n = startedByMethod.get(method.getFullMethodName());
    return n == null ? 0 : n.get();
  }

  /** Polls until the server has seen {@code count} calls of {@code method}; false on timeout. */
  public boolean awaitStarted(MethodDescriptor<?, ?> method, long count, long time, TimeUnit unit)
      throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(time);
    while (started(method) < count) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      TimeUnit.MILLISECONDS.sleep(5); // polling interval, not synchronisation
    }
    return true;
  }

  /** Polls until no call is in flight; false when the deadline passes first. */
  public boolean awaitIdle(long time, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(time);
    while (live.get() != 0) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval, not synchronisation
    }
    return true;
  }
}
