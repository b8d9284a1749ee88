package dev.grpcquic.admission;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/** Closed-loop load: {@code concurrency} loops of unary calls, each starting the next as one ends. */
final class CallLoops {
  private final ManagedChannel channel;
  private final MethodDescriptor<byte[], byte[]> method;
  private final Supplier<CallOptions> options;
  private final int concurrency;
  private volatile boolean stopped;
  private final AtomicInteger running = new AtomicInteger();
  final AtomicLong ok = new AtomicLong();
  final AtomicLong failed = new AtomicLong();
  final AtomicReference<Status> firstFailure = new AtomicReference<>();

  CallLoops(ManagedChannel channel, MethodDescriptor<byte[], byte[]> method,
      Supplier<CallOptions> options, int concurrency) {
    this.channel = channel;
    this.method = method;
    this.options = options;
    this.concurrency = concurrency;
  }

  void start() {
    for (int i = 0; i < concurrency; i++) {
      running.incrementAndGet();
      next();
    }
  }

  private void next() {
    if (stopped) {
      running.decrementAndGet();
      return;
    }
    var future = ClientCalls.futureUnaryCall(channel.newCall(method, options.get()), new byte[16]);
    future.addListener(() -> {
      try {
        future.get();
        ok.incrementAndGet();
      } catch (Exception e) {
        failed.incrementAndGet();
        firstFailure.compareAndSet(null, Status.fromThrowable(e));
      }
      next();
    }, Runnable::run);
  }

  void stopStarting() {
    stopped = true;
  }

  /** Stops starting calls and waits for the running ones to end (bounded by the test's timeout). */
  void stop() {
    stopStarting();
    while (running.get() > 0) {
      LockSupport.parkNanos(5_000_000); // polls; the calls end meanwhile
      if (Thread.interrupted()) {
        throw new AssertionError(running.get() + " call loops still running");
      }
    }
  }
}
