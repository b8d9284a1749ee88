package dev.grpcquic.bench;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/** The gRPC measurements; the same code for every transport. */
final class GrpcBench {
  static final byte[] UNARY_REQUEST = BenchService.payload(BenchService.UNARY_SIZE);

  private GrpcBench() {}

  static byte[] unary(Channel channel) {
    byte[] response = ClientCalls.blockingUnaryCall(channel, BenchService.UNARY,
        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), UNARY_REQUEST);
    if (response.length != BenchService.UNARY_SIZE) {
      throw new IllegalStateException("response of " + response.length + " bytes");
    }
    return response;
  }

  static LatencyStats unaryLatency(String label, Channel channel, Plan plan) throws Exception {
    return LatencyLoop.run(label, plan, () -> unary(channel));
  }

  /** Calls per second of {@code threads} threads each making blocking unary calls back to back. */
  static Map<String, Object> unaryThroughput(String label, Channel channel, Plan plan)
      throws Exception {
    int threads = plan.throughputThreads();
    Progress.log("%s: unary throughput, %d threads: %ds warm-up, %ds measured", label, threads,
        plan.throughputWarmup().toSeconds(), plan.throughputMeasure().toSeconds());
    long c0;
    long c1;
    long t0;
    long t1;
    UnaryCallers callers = new UnaryCallers(channel, threads, "bench-unary-");
    try {
      Thread.sleep(plan.throughputWarmup().toMillis());
      c0 = callers.calls();
      t0 = System.nanoTime();
      Thread.sleep(plan.throughputMeasure().toMillis());
      c1 = callers.calls();
      t1 = System.nanoTime();
    } finally {
      callers.close();
    }
    Throwable failure = callers.failure();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("threads", threads);
    m.put("calls", c1 - c0);
    m.put("seconds", (t1 - t0) / 1e9);
    double rate = (c1 - c0) / ((t1 - t0) / 1e9);
    m.put("callsPerSecond", rate);
    m.put("failure", failure == null ? null : String.valueOf(failure));
    Progress.log("%s: %.0f calls/s%s", label, rate,
        failure == null ? "" : " (failure: " + failure + ")");
    return m;
  }

  /** Server streaming: warm-up transfer, then {@code bulkRuns} measured ones. */
  static BulkResult download(String label, Channel channel, Plan plan) {
    return bulk(label + " server-streaming", plan,
        (bytes, cap) -> downloadOnce(channel, bytes, plan.bulkMessageSize(), cap, plan.bulkPartial()));
  }

  /** Client streaming: warm-up transfer, then {@code bulkRuns} measured ones. */
  static BulkResult upload(String label, Channel channel, Plan plan) {
    return bulk(label + " client-streaming", plan,
        (bytes, cap) -> uploadOnce(channel, bytes, plan.bulkMessageSize(), cap, plan.bulkPartial()));
  }

  /** One transfer of up to {@code bytes}; throws on failure. */
  interface Transfer {
    Transferred run(long bytes, Duration cap) throws Exception;
  }

  /**
   * What one transfer moved in how long. {@code complete} is false when the cap ended it first
   * (only with {@link Plan#bulkPartial()}): then the bytes are those the receiver had by then.
   */
  record Transferred(long bytes, long nanos, boolean complete) {}

  static BulkResult bulk(String label, Plan plan, Transfer transfer) {
    BulkResult result = new BulkResult(plan.bulkBytes());
    try {
      if (plan.bulkWarmupBytes() > 0) {
        Progress.log("%s: warm-up %d MiB", label, plan.bulkWarmupBytes() / Plan.MIB);
        transfer.run(plan.bulkWarmupBytes(), plan.bulkCap());
      }
      for (int i = 0; i < plan.bulkRuns(); i++) {
        Progress.log("%s: run %d/%d, %d MiB%s", label, i + 1, plan.bulkRuns(),
            plan.bulkBytes() / Plan.MIB, plan.bulkPartial()
                ? " or " + plan.bulkCap().toSeconds() + " s, whichever ends first" : "");
        Transferred t = transfer.run(plan.bulkBytes(), plan.bulkCap());
        result.add(t);
        Progress.log("%s: %.2f MiB/s (%.2f MiB in %.2f s%s)", label, result.mibPerSecond.get(i),
            t.bytes() / (double) Plan.MIB, result.seconds.get(i), t.complete() ? "" : ", cut at the cap");
      }
    } catch (Exception e) {
      result.failure = e.toString();
      Progress.log("%s: FAILED: %s", label, e);
    }
    return result;
  }

  private static Transferred downloadOnce(Channel channel, long total, int size, Duration cap,
      boolean partial) throws Exception {
    ClientCall<byte[], byte[]> call = channel.newCall(BenchService.DOWNLOAD,
        CallOptions.DEFAULT.withDeadlineAfter(cap.toMillis() + 30_000, TimeUnit.MILLISECONDS));
    AtomicLong received = new AtomicLong();
    AtomicLong endNanos = new AtomicLong();
    CompletableFuture<Status> closed = new CompletableFuture<>();
    long start = System.nanoTime();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(byte[] message) {
        received.addAndGet(message.length);
        call.request(1);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        endNanos.set(System.nanoTime());
        closed.complete(status);
      }
    }, new Metadata());
    call.request(2);
    call.sendMessage(BenchService.downloadRequest(total, size));
    call.halfClose();
    Status status = await(closed, received, total, cap, "received", partial);
    if (status == null) {
      long nanos = System.nanoTime() - start;
      long bytes = received.get();
      call.cancel("benchmark cap reached", null);
      return new Transferred(bytes, nanos, false);
    }
    if (!status.isOk() || received.get() != total) {
      throw new IllegalStateException("download ended with " + status + " after "
          + received.get() + " of " + total + " bytes");
    }
    return new Transferred(total, endNanos.get() - start, true);
  }

  private static Transferred uploadOnce(Channel channel, long total, int size, Duration cap,
      boolean partial) throws Exception {
    ClientCall<byte[], byte[]> call = channel.newCall(BenchService.UPLOAD,
        CallOptions.DEFAULT.withDeadlineAfter(2 * cap.toMillis() + 30_000, TimeUnit.MILLISECONDS));
    byte[] message = BenchService.payload(size);
    AtomicLong sent = new AtomicLong();
    AtomicLong acknowledged = new AtomicLong(-1);
    AtomicLong endNanos = new AtomicLong();
    CompletableFuture<Status> closed = new CompletableFuture<>();
    class Pump implements Runnable {
      boolean halfClosed;
      boolean stop;

      @Override
      public synchronized void run() {
        while (!halfClosed && !stop && sent.get() < total && call.isReady()) {
          int n = (int) Math.min(size, total - sent.get());
          call.sendMessage(n == size ? message : java.util.Arrays.copyOf(message, n));
          sent.addAndGet(n);
        }
        if (!halfClosed && (stop || sent.get() >= total)) {
          halfClosed = true;
          call.halfClose();
        }
      }

      synchronized void stop() {
        stop = true;
        run();
      }
    }
    Pump pump = new Pump();
    long start = System.nanoTime();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(byte[] response) {
        acknowledged.set(ByteBuffer.wrap(response).getLong());
      }

      @Override
      public void onReady() {
        pump.run();
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        endNanos.set(System.nanoTime());
        closed.complete(status);
      }
    }, new Metadata());
    call.request(1);
    pump.run();
    Status status = await(closed, sent, total, cap, "sent", partial);
    boolean complete = true;
    if (status == null) {
      // Cap reached: stop sending and let the server count what it got; the time includes
      // draining what was in flight, so every byte counted has arrived.
      complete = false;
      pump.stop();
      status = await(closed, sent, total, cap, "sent (draining)", false);
    }
    long expected = complete ? total : sent.get();
    if (!status.isOk() || acknowledged.get() != expected) {
      throw new IllegalStateException("upload ended with " + status + "; server received "
          + acknowledged.get() + " of " + expected + " bytes (" + sent.get() + " handed to grpc)");
    }
    return new Transferred(expected, endNanos.get() - start, complete);
  }

  /**
   * Waits for the call's end, printing progress every 2 s. After {@code cap}: null when
   * {@code partial}, else a TimeoutException (5 s later).
   */
  static <T> T await(CompletableFuture<T> done, AtomicLong progress, long total, Duration cap,
      String verb, boolean partial) throws Exception {
    long deadline = System.nanoTime() + (partial ? cap : cap.plusSeconds(5)).toNanos();
    while (true) {
      try {
        long left = deadline - System.nanoTime();
        return done.get(Math.max(1, Math.min(left, 2_000_000_000L)), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        if (System.nanoTime() >= deadline) {
          if (partial) {
            return null;
          }
          throw new TimeoutException("no end after " + cap.toSeconds() + " s; " + verb + " "
              + progress.get() + " of " + total + " bytes");
        }
        Progress.log("  ... %d of %d MiB %s", progress.get() / Plan.MIB, total / Plan.MIB, verb);
      }
    }
  }
}
