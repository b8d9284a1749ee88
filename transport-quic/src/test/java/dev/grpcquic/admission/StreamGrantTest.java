package dev.grpcquic.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.testing.TestEngine;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * With {@code grantStreamsByLimit}, the streams a server grants one connection follow its
 * admission limit. The server grants 12 streams per connection; the limit starts at 4 and may
 * rise to 8 (the latency target, 10 s, is never reached, so it never falls). One client keeps 12
 * calls going against a service that answers only when the test lets it:
 *
 * <ol>
 *   <li>gate shut: 4 calls are in the service, the other 8 streams are refused, and the server
 *       holds their slots, so the client, whose calls grpc-java retries transparently, can open
 *       no further stream: it has 4 calls open at the server at once, the limit;
 *   <li>gate open: calls complete quickly, the limit rises to 8, and the server gives back held
 *       slots as it rises;
 *   <li>gate shut again: 8 calls reach the service, the new limit.
 * </ol>
 *
 * The server refuses the first 8 streams (granted 12 less the limit 4), and after that only
 * streams whose slot the client took back: a refusal that reaches the client before its request
 * is sent whole makes it reset the stream, which frees the slot on kwik (seen in 1 run of 3; the
 * server then holds the next refused stream instead). A retry policy covers a call refused twice
 * that way, so no call fails. Without the grants the refused calls' retries are refused again at
 * once, a few hundred thousand times in this test's two minutes.
 */
@Timeout(120)
class StreamGrantTest {
  private static final MethodDescriptor<byte[], byte[]> WORK =
      TestService.ECHO.toBuilder().setFullMethodName("grant.Test/Work").build();
  private static final int GRANTED = 12;
  private static final int INITIAL_LIMIT = 4;
  private static final int MAX_LIMIT = 8;

  @Test
  void grantedStreamsFollowTheLimit() throws Exception {
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
        .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
        .build();
    Gate gate = new Gate();
    TestTls tls = TestTls.get();
    Server server = QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .engine(TestEngine.get())
        .keyStore(tls.serverKeyStore(), tls.keyAlias(), tls.keyPassword())
        .maxConcurrentCallsPerConnection(GRANTED)
        .openTelemetry(sdk)
        .adaptiveConcurrencyLimit(new AdaptiveConcurrencyLimit(Duration.ofSeconds(10), 0.95,
            INITIAL_LIMIT, INITIAL_LIMIT, MAX_LIMIT, Duration.ZERO, 8)
            .withGrantStreamsByLimit(true))
        .addService(gate.definition())
        .build().start();
    ManagedChannel channel = QuicChannelBuilder.forAddress("127.0.0.1",
            ((InetSocketAddress) server.getListenSockets().get(0)).getPort())
        .engine(TestEngine.get())
        .overrideAuthority("localhost")
        .trustManager(tls.trustManager())
        .defaultServiceConfig(retryOnUnavailable())
        .enableRetry()
        .build();
    CallLoops load = new CallLoops(channel, WORK,
        () -> CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), GRANTED);
    try {
      load.start();

      // 1. The first 12 streams: 4 admitted, 8 refused and held; the retries wait for streams.
      await(() -> gate.inService() == INITIAL_LIMIT && rejected(reader) >= GRANTED - INITIAL_LIMIT,
          () -> "in service " + gate.inService() + ", refused " + rejected(reader));
      int firstMax = gate.maxInService();

      // 2. Fast calls: the limit rises to its maximum, held slots come back as it does.
      gate.open();
      await(() -> limit(reader) == MAX_LIMIT, () -> "limit " + limit(reader));

      // 3. The client now has the new limit's streams: 8 calls reach the service.
      gate.shut();
      await(() -> gate.inService() == MAX_LIMIT,
          () -> "in service " + gate.inService() + ", limit " + limit(reader));

      load.stopStarting();
      gate.open();
      load.stop();

      assertEquals(0, load.failed.get(), "calls failed, first: " + load.firstFailure.get());
      assertEquals(INITIAL_LIMIT, firstMax, "calls in the service before the limit rose");
      assertTrue(gate.maxInService() <= MAX_LIMIT, "in service at once: " + gate.maxInService());
      long refused = rejected(reader);
      assertTrue(refused >= GRANTED - INITIAL_LIMIT && refused <= 4 * (GRANTED - INITIAL_LIMIT),
          "refused " + refused + " streams; the first " + (GRANTED - INITIAL_LIMIT)
              + " over the limit and a few that clients reset, expected");
      System.out.printf("%d calls OK; %d refused; at most %d then %d calls in the service%n",
          load.ok.get(), rejected(reader), firstMax, gate.maxInService());
    } finally {
      load.stopStarting();
      gate.open();
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      sdk.close();
    }
  }

  /** Retries a call refused a second time (see the class comment). */
  private static java.util.Map<String, Object> retryOnUnavailable() {
    return java.util.Map.of("methodConfig", List.of(java.util.Map.of(
        "name", List.of(java.util.Map.of("service", "grant.Test")),
        "retryPolicy", java.util.Map.of(
            "maxAttempts", 5.0,
            "initialBackoff", "0.01s",
            "maxBackoff", "0.1s",
            "backoffMultiplier", 2.0,
            "retryableStatusCodes", List.of("UNAVAILABLE")))));
  }

  private static void await(BooleanSupplier condition, java.util.function.Supplier<String> state) {
    while (!condition.getAsBoolean()) {
      LockSupport.parkNanos(10_000_000); // polls; the calls run meanwhile
      if (Thread.interrupted()) { // the test's @Timeout
        throw new AssertionError("never reached; " + state.get());
      }
    }
  }

  private static long rejected(InMemoryMetricReader reader) {
    return sum(reader, "quic.server.admission.rejected");
  }

  private static long limit(InMemoryMetricReader reader) {
    return sum(reader, "quic.server.admission.limit");
  }

  private static long sum(InMemoryMetricReader reader, String name) {
    long sum = 0;
    for (MetricData m : reader.collectAllMetrics()) {
      if (m.getName().equals(name)) {
        for (PointData p : m.getData().getPoints()) {
          sum += ((LongPointData) p).getValue();
        }
      }
    }
    return sum;
  }

  /** A unary service that answers at once while open, and holds its calls while shut. */
  private static final class Gate {
    private final Object lock = new Object();
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    private boolean open;
    private final AtomicInteger inService = new AtomicInteger();
    private final AtomicInteger maxInService = new AtomicInteger();

    ServerServiceDefinition definition() {
      return ServerServiceDefinition.builder("grant.Test")
          .addMethod(WORK, ServerCalls.asyncUnaryCall(this::call))
          .build();
    }

    private void call(byte[] request, StreamObserver<byte[]> response) {
      int now = inService.incrementAndGet();
      maxInService.accumulateAndGet(now, Math::max);
      Runnable answer = () -> {
        inService.decrementAndGet();
        response.onNext(request);
        response.onCompleted();
      };
      synchronized (lock) {
        if (!open) {
          waiting.add(answer);
          return;
        }
      }
      answer.run();
    }

    void open() {
      List<Runnable> release;
      synchronized (lock) {
        open = true;
        release = new ArrayList<>(waiting);
        waiting.clear();
      }
      release.forEach(Runnable::run);
    }

    void shut() {
      synchronized (lock) {
        open = false;
      }
      maxInService.set(inService.get());
    }

    int inService() {
      return inService.get();
    }

    int maxInService() {
      return maxInService.get();
    }
  }
}
