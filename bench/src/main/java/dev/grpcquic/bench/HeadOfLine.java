package dev.grpcquic.bench;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Head-of-line blocking: {@value #LOOPS} loops of small unary calls (closed loop, one call in
 * flight each) on the same connection as one bulk download that never ends. Over TCP a lost segment
 * of the download holds back every small answer behind it in the byte stream; over QUIC only the
 * stream whose packet was lost waits.
 */
final class HeadOfLine {
  static final int LOOPS = 16;
  static final int SMALL = 1024;
  private static final int BULK_MESSAGE = 64 * 1024;
  private static final int MAX_SAMPLES_PER_LOOP = 200_000;

  /** The small calls' latency, the bulk stream's goodput and the calls that failed. */
  record Result(LatencyStats small, double bulkMbit, long failures) {
    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("small", small == null ? null : small.toMap());
      m.put("bulkMbit", bulkMbit);
      m.put("failures", failures);
      return m;
    }
  }

  private HeadOfLine() {}

  /**
   * Warms the connection, starts the bulk download (unless {@code withBulk} is false: the
   * baseline), lets it run for {@code rampUp}, then measures the small calls for {@code measure}.
   */
  static Result run(ManagedChannel channel, boolean withBulk, Duration rampUp, Duration measure)
      throws InterruptedException {
    byte[] request = BenchService.payload(SMALL);
    long warmUpFailures = 0;
    for (int i = 0; i < 50; i++) {
      try {
        ClientCalls.blockingUnaryCall(channel, BenchService.UNARY,
            CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request);
      } catch (io.grpc.StatusRuntimeException e) {
        // Counted with the measured calls' failures: one failed call should not end the run.
        Progress.log("head-of-line: warm-up call failed: %s", e.getStatus());
        warmUpFailures++;
      }
    }
    Bulk bulk = new Bulk();
    if (withBulk) {
      ClientCalls.asyncServerStreamingCall(channel.newCall(BenchService.DOWNLOAD, CallOptions.DEFAULT),
          BenchService.downloadRequest(Long.MAX_VALUE / 2, BULK_MESSAGE), bulk);
      Thread.sleep(rampUp.toMillis()); // not synchronisation: the download's congestion window grows
    }
    long bulkBytesAtStart = bulk.bytes.get();
    long start = System.nanoTime();
    long end = start + measure.toNanos();
    long[][] samples = new long[LOOPS][MAX_SAMPLES_PER_LOOP];
    int[] counts = new int[LOOPS];
    AtomicLong failures = new AtomicLong(warmUpFailures);
    CountDownLatch done = new CountDownLatch(LOOPS);
    for (int i = 0; i < LOOPS; i++) {
      int loop = i;
      Thread t = new Thread(() -> {
        try {
          while (System.nanoTime() < end && counts[loop] < MAX_SAMPLES_PER_LOOP) {
            long callStart = System.nanoTime();
            try {
              ClientCalls.blockingUnaryCall(channel, BenchService.UNARY,
                  CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request);
              samples[loop][counts[loop]++] = System.nanoTime() - callStart;
            } catch (RuntimeException e) {
              failures.incrementAndGet();
            }
          }
        } finally {
          done.countDown();
        }
      }, "hol-small-" + i);
      t.setDaemon(true);
      t.start();
    }
    if (!done.await(measure.toSeconds() + 120, TimeUnit.SECONDS)) {
      throw new IllegalStateException("small-call loops did not finish");
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long bulkBytes = bulk.bytes.get() - bulkBytesAtStart;
    bulk.cancel();
    int total = 0;
    for (int c : counts) {
      total += c;
    }
    long[] all = new long[total];
    int at = 0;
    for (int i = 0; i < LOOPS; i++) {
      System.arraycopy(samples[i], 0, all, at, counts[i]);
      at += counts[i];
    }
    return new Result(total == 0 ? null : LatencyStats.of(all, total),
        bulkBytes * 8 / seconds / 1e6, failures.get());
  }

  /** Counts the download's bytes; cancelled when the measurement ends. */
  private static final class Bulk implements ClientResponseObserver<byte[], byte[]> {
    final AtomicLong bytes = new AtomicLong();
    private volatile ClientCallStreamObserver<byte[]> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<byte[]> requestStream) {
      call = requestStream;
    }

    @Override
    public void onNext(byte[] value) {
      bytes.addAndGet(value.length);
    }

    @Override
    public void onError(Throwable t) {
      // cancelled at the end, or the connection went away: the byte count says what arrived
    }

    @Override
    public void onCompleted() {
    }

    void cancel() {
      if (call != null) {
        call.cancel("measurement over", null);
      }
    }
  }
}
