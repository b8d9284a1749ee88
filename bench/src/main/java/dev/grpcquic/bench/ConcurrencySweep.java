package dev.grpcquic.bench;

import com.sun.management.OperatingSystemMXBean;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Unary 1 KiB calls with a fixed number in flight (closed loop: each answer starts the next call),
 * for each level of a sweep: throughput and latency against load, and the knee where more load
 * stops buying throughput.
 */
final class ConcurrencySweep {
  private static final int MAX_SAMPLES = 4_000_000;

  private static final OperatingSystemMXBean OS =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  /**
   * One level of the sweep. {@code cpuMicrosPerCall} is this process's CPU time over the level
   * divided by its calls: with client and server in one JVM and the cores saturated, calls/s is
   * the cores over this figure, so it says whether a throughput gap is CPU per call.
   * {@code packetsPerCall} counts UDP datagrams and TCP segments sent (both directions, on
   * loopback, machine-wide: {@link NetCounters}), which says how well calls share packets;
   * {@code receiveDrops} the datagrams a full UDP receive buffer dropped meanwhile.
   */
  record Point(int inFlight, double callsPerSecond, LatencyStats latency, long failures,
      double cpuMicrosPerCall, double packetsPerCall, long receiveDrops) {
    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("inFlight", inFlight);
      m.put("callsPerSecond", callsPerSecond);
      m.put("cpuMicrosPerCall", cpuMicrosPerCall);
      m.put("packetsPerCall", packetsPerCall);
      m.put("udpReceiveBufferDrops", receiveDrops);
      m.put("failures", failures);
      m.put("latency", latency == null ? null : latency.toMap());
      return m;
    }
  }

  private ConcurrencySweep() {}

  static List<Point> run(String label, Channel channel, int[] levels, Duration warmup,
      Duration measure) throws InterruptedException {
    List<Point> points = new ArrayList<>();
    for (int level : levels) {
      level(channel, level, warmup, null);
      Recorder recorder = new Recorder();
      long cpuBefore = OS.getProcessCpuTime();
      NetCounters netBefore = NetCounters.now();
      long elapsed = level(channel, level, measure, recorder);
      NetCounters net = NetCounters.now().since(netBefore);
      long cpu = OS.getProcessCpuTime() - cpuBefore;
      int calls = recorder.count();
      LatencyStats stats = calls == 0 ? null : LatencyStats.of(recorder.samples, calls);
      Point p = new Point(level, calls / (elapsed / 1e9), stats, recorder.failures.get(),
          calls == 0 ? 0 : cpu / 1000.0 / calls,
          calls == 0 ? 0 : (double) net.packetsSent() / calls, net.udpReceiveBufferDrops());
      points.add(p);
      Progress.log("%s: %4d in flight: %.0f calls/s, %.0f µs CPU and %.2f packets per call%s, %s%s",
          label, level, p.callsPerSecond(), p.cpuMicrosPerCall(), p.packetsPerCall(),
          p.receiveDrops() > 0 ? " (" + p.receiveDrops() + " datagrams dropped on receive)" : "",
          stats, p.failures() > 0 ? ", " + p.failures() + " failed" : "");
    }
    return points;
  }

  /**
   * The knee: the lowest level whose throughput reaches 90 % of the sweep's best. Beyond it, more
   * calls in flight mostly add queueing delay.
   */
  static Point knee(List<Point> points) {
    double best = points.stream().mapToDouble(Point::callsPerSecond).max().orElse(0);
    for (Point p : points) {
      if (p.callsPerSecond() >= 0.9 * best) {
        return p;
      }
    }
    return null;
  }

  /** Keeps {@code inFlight} calls going for {@code duration}; returns the nanoseconds it took. */
  private static long level(Channel channel, int inFlight, Duration duration, Recorder recorder)
      throws InterruptedException {
    long start = System.nanoTime();
    long stopAt = start + duration.toNanos();
    CountDownLatch done = new CountDownLatch(inFlight);
    for (int i = 0; i < inFlight; i++) {
      new Caller(channel, stopAt, recorder, done).next();
    }
    if (!done.await(duration.toSeconds() + 60, TimeUnit.SECONDS)) {
      throw new IllegalStateException(inFlight + " in flight: calls did not finish");
    }
    return System.nanoTime() - start;
  }

  /** One slot of the closed loop. */
  private static final class Caller implements StreamObserver<byte[]> {
    private final Channel channel;
    private final long stopAt;
    private final Recorder recorder;
    private final CountDownLatch done;
    private long started;

    Caller(Channel channel, long stopAt, Recorder recorder, CountDownLatch done) {
      this.channel = channel;
      this.stopAt = stopAt;
      this.recorder = recorder;
      this.done = done;
    }

    void next() {
      started = System.nanoTime();
      if (started >= stopAt) {
        done.countDown();
        return;
      }
      ClientCalls.asyncUnaryCall(channel.newCall(BenchService.UNARY,
          CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS)),
          GrpcBench.UNARY_REQUEST, this);
    }

    @Override
    public void onNext(byte[] value) {
      if (recorder != null) {
        recorder.record(System.nanoTime() - started);
      }
    }

    @Override
    public void onError(Throwable t) {
      if (recorder != null) {
        recorder.failures.incrementAndGet();
      }
      next();
    }

    @Override
    public void onCompleted() {
      next();
    }
  }

  private static final class Recorder {
    final long[] samples = new long[MAX_SAMPLES];
    final AtomicInteger next = new AtomicInteger();
    final java.util.concurrent.atomic.AtomicLong failures = new java.util.concurrent.atomic.AtomicLong();

    void record(long nanos) {
      int i = next.getAndIncrement();
      if (i < samples.length) {
        samples[i] = nanos;
      }
    }

    int count() {
      return Math.min(next.get(), samples.length);
    }
  }
}
