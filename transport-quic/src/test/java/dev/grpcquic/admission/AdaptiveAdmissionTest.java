package dev.grpcquic.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.testing.TestEngine;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import dev.grpcquic.testing.StaticResolverProvider;
import io.grpc.CallOptions;
import io.grpc.ClientStreamTracer;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Adaptive admission on a real server. Server A's service takes longer the more calls are in it
 * (20 ms, later 1 ms, per call inside); its limit, read from its OpenTelemetry gauge, falls to what
 * keeps p95 near the 100 ms target, then rises when the service gets fast. Server B takes every
 * call quickly. A grpc-java channel with round_robin over both drives 32 calls at a time: the
 * calls A refuses (H3_REQUEST_REJECTED) are retried, the first time transparently (grpc-java's
 * REFUSED retry), after that by a retry policy on UNAVAILABLE, and no call fails.
 */
@Timeout(120)
class AdaptiveAdmissionTest {
  private static final String SCHEME = "quic-admission-test";
  private static final MethodDescriptor<byte[], byte[]> WORK =
      TestService.ECHO.toBuilder().setFullMethodName("admission.Test/Work").build();
  private static final int CONCURRENT_CALLS = 32;

  @Test
  void limitFollowsLatencyAndRefusedCallsAreRetriedElsewhere() throws Exception {
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
        .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
        .build();
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "admission-test-service");
      t.setDaemon(true);
      return t;
    });
    LatencyService slowA = new LatencyService(timer, 20);
    LatencyService fastB = new LatencyService(timer, 0);
    Server a = server(slowA).openTelemetry(sdk)
        .adaptiveConcurrencyLimit(new AdaptiveConcurrencyLimit(Duration.ofMillis(100), 0.95,
            20, 1, 200, Duration.ofMillis(100), 10))
        .build().start();
    Server b = server(fastB).build().start();
    StaticResolverProvider resolver = new StaticResolverProvider(SCHEME, List.of(address(a), address(b)));
    NameResolverRegistry.getDefaultRegistry().register(resolver);
    ManagedChannel channel = null;
    CallLoops load = null;
    RetryCounter retries = new RetryCounter();
    try {
      channel = QuicChannelBuilder.forTarget(SCHEME + ":///two")
          .engine(TestEngine.get())
          .defaultLoadBalancingPolicy("round_robin")
          .overrideAuthority("localhost")
          .trustManager(TestTls.get().trustManager())
          // grpc-java retries a refused call transparently once; round_robin may send that retry
          // back to A (one chance in two here), which refuses it again. Then this policy retries
          // (UNAVAILABLE, up to 20 attempts: 2^-19 that all land on A).
          .defaultServiceConfig(retryOnUnavailable())
          .enableRetry()
          .maxRetryAttempts(20)
          .build();
      load = new CallLoops(channel, WORK, () -> CallOptions.DEFAULT
          .withStreamTracerFactory(retries).withDeadlineAfter(30, TimeUnit.SECONDS),
          CONCURRENT_CALLS);
      load.start();

      // Phase 1: 20 ms per call in A's service; p95 <= 100 ms allows about 5 calls in it.
      int low = awaitLimit(reader, limit -> limit <= 7);
      awaitAtLeast(retries.transparent::get, 20);
      long rejectedWhileSlow = counter(reader, "quic.server.admission.rejected");
      assertTrue(rejectedWhileSlow > 0, "A refused nothing");

      // Phase 2: 1 ms per call; the limit rises while the calls in flight use it.
      slowA.perCallMillis = 1;
      int high = awaitLimit(reader, limit -> limit >= 12);
      load.stop();

      assertEquals(0, load.failed.get(), "calls failed, first: " + load.firstFailure.get());
      assertTrue(load.ok.get() > 0);
      // The limit's input is exported too: every call A ran is a quic.server.request.duration
      // sample.
      assertTrue(histogramCount(reader, "quic.server.request.duration") > 0);
      System.out.printf("limit fell to %d, rose to %d; %d calls OK, %d refused by A,"
              + " %d transparent retries, %d policy retries%n", low, high, load.ok.get(),
          counter(reader, "quic.server.admission.rejected"), retries.transparent.get(),
          retries.policy.get());
    } finally {
      if (load != null) {
        load.stop();
      }
      if (channel != null) {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
      NameResolverRegistry.getDefaultRegistry().deregister(resolver);
      a.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      b.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      timer.shutdownNow();
      sdk.close();
    }
  }

  private static QuicServerBuilder server(LatencyService service) {
    TestTls tls = TestTls.get();
    return QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .engine(TestEngine.get())
        .keyStore(tls.serverKeyStore(), tls.keyAlias(), tls.keyPassword())
        .addService(service.definition());
  }

  private static SocketAddress address(Server server) {
    return new InetSocketAddress("127.0.0.1",
        ((InetSocketAddress) server.getListenSockets().get(0)).getPort());
  }

  private static Map<String, Object> retryOnUnavailable() {
    return Map.of("methodConfig", List.of(Map.of(
        "name", List.of(Map.of("service", "admission.Test")),
        "retryPolicy", Map.of(
            "maxAttempts", 20.0,
            "initialBackoff", "0.01s",
            "maxBackoff", "0.1s",
            "backoffMultiplier", 2.0,
            "retryableStatusCodes", List.of("UNAVAILABLE")))));
  }

  /** Polls A's limit gauge until it satisfies the condition (bounded by the test's timeout). */
  private static int awaitLimit(InMemoryMetricReader reader, IntPredicate condition) {
    while (true) {
      for (PointData p : points(reader.collectAllMetrics(), "quic.server.admission.limit")) {
        int limit = (int) ((LongPointData) p).getValue();
        if (condition.test(limit)) {
          return limit;
        }
      }
      LockSupport.parkNanos(20_000_000); // polls; the load runs meanwhile
      if (Thread.interrupted()) { // the test's @Timeout
        throw new AssertionError("the limit never met the condition: "
            + points(reader.collectAllMetrics(), "quic.server.admission.limit"));
      }
    }
  }

  private static void awaitAtLeast(java.util.function.LongSupplier value, long atLeast) {
    while (value.getAsLong() < atLeast) {
      LockSupport.parkNanos(20_000_000);
      if (Thread.interrupted()) {
        throw new AssertionError("stayed below " + atLeast + ": " + value.getAsLong());
      }
    }
  }

  private static long counter(InMemoryMetricReader reader, String name) {
    long sum = 0;
    for (PointData p : points(reader.collectAllMetrics(), name)) {
      sum += ((LongPointData) p).getValue();
    }
    return sum;
  }

  private static long histogramCount(InMemoryMetricReader reader, String name) {
    long sum = 0;
    for (PointData p : points(reader.collectAllMetrics(), name)) {
      sum += ((io.opentelemetry.sdk.metrics.data.HistogramPointData) p).getCount();
    }
    return sum;
  }

  private static List<PointData> points(java.util.Collection<MetricData> metrics, String name) {
    List<PointData> result = new ArrayList<>();
    for (MetricData m : metrics) {
      if (m.getName().equals(name)) {
        result.addAll(m.getData().getPoints());
      }
    }
    return result;
  }

  /** A unary service whose latency is perCallMillis x the calls in it (this one included). */
  private static final class LatencyService {
    private final ScheduledExecutorService timer;
    private final AtomicInteger inService = new AtomicInteger();
    volatile long perCallMillis;

    LatencyService(ScheduledExecutorService timer, long perCallMillis) {
      this.timer = timer;
      this.perCallMillis = perCallMillis;
    }

    ServerServiceDefinition definition() {
      return ServerServiceDefinition.builder("admission.Test")
          .addMethod(WORK, ServerCalls.asyncUnaryCall((request, response) -> {
            int calls = inService.incrementAndGet();
            timer.schedule(() -> {
              inService.decrementAndGet();
              response.onNext(request);
              response.onCompleted();
            }, perCallMillis * calls, TimeUnit.MILLISECONDS);
          }))
          .build();
    }
  }

  /** Counts grpc-core's retries: transparent ones, and those of the retry policy. */
  private static final class RetryCounter extends ClientStreamTracer.Factory {
    final AtomicLong transparent = new AtomicLong();
    final AtomicLong policy = new AtomicLong();

    @Override
    public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info,
        Metadata headers) {
      if (info.isTransparentRetry()) {
        transparent.incrementAndGet();
      } else if (info.getPreviousAttempts() > 0) {
        policy.incrementAndGet();
      }
      return new ClientStreamTracer() {};
    }
  }
}
