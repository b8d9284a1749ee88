package dev.grpcquic.transport;

import static dev.grpcquic.testing.RawHttp3Client.concat;
import static dev.grpcquic.testing.RawHttp3Client.grpcHeaders;
import static dev.grpcquic.testing.RawHttp3Client.grpcMessage;

import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.testing.CallCounter;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.RawHttp3Client;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Measures (does not assert) a well-behaved client's unary latency on its own connection, first
 * alone, then while a hostile peer on another connection runs each of {@link HostilePeerTest}'s
 * attacks in a loop; prints p50 and p99 and the p99 factor over the unloaded run. Run with
 * {@code -Dtest=HostileLoadMeasurement -Dhostile.measure=true}; results go to standard output
 * (target/surefire-reports/...-output.txt).
 */
@Timeout(900)
class HostileLoadMeasurement {
  private static final int CALLS = Integer.getInteger("hostile.calls", 1000);
  private static final int MAX_STREAMS = 100;

  private interface Attack {
    void once(RawHttp3Client client) throws Exception;
  }

  @Test
  void goodClientLatencyUnderEachAttack() throws Exception {
    Assumptions.assumeTrue(Boolean.getBoolean("hostile.measure"), "-Dhostile.measure=true");
    CallCounter calls = new CallCounter();
    try (QuicTestServer server = new QuicTestServer(b -> b
        .requestHeadersTimeout(1, TimeUnit.SECONDS)
        .addStreamTracerFactory(calls))) {
      ManagedChannel good = server.channel();
      latencies(good); // warm-up
      long[] base = latencies(good);
      print("unloaded", base, base);
      print("10,000 streams", under(server, good, client -> manyStreams(client, 1000)), base);
      print("empty DATA + unknown frame flood", under(server, good, this::flood), base);
      print("reset storm", under(server, good, client -> resetStorm(client, calls)), base);
      print("unfinished HEADERS", under(server, good, this::slowloris), base);
    }
  }

  private long[] under(QuicTestServer server, ManagedChannel good, Attack attack)
      throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService hostile = Executors.newSingleThreadExecutor();
    Future<?> running = hostile.submit(() -> {
      try (RawHttp3Client client = new RawHttp3Client(server.port())) {
        while (!stop.get()) {
          attack.once(client);
        }
      }
      return null;
    });
    try {
      return latencies(good);
    } finally {
      stop.set(true);
      running.get(120, TimeUnit.SECONDS);
      hostile.shutdownNow();
    }
  }

  private static long[] latencies(ManagedChannel channel) {
    long[] nanos = new long[CALLS];
    for (int i = 0; i < CALLS; i++) {
      long start = System.nanoTime();
      ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), new byte[] {1});
      nanos[i] = System.nanoTime() - start;
    }
    Arrays.sort(nanos);
    return nanos;
  }

  private static void print(String what, long[] sorted, long[] base) {
    long p50 = sorted[sorted.length / 2];
    long p99 = sorted[sorted.length * 99 / 100];
    long baseP99 = base[base.length * 99 / 100];
    System.out.printf("%-34s p50 %7.2f ms  p99 %7.2f ms  p99 factor %5.2f%n", what, p50 / 1e6,
        p99 / 1e6, (double) p99 / baseP99);
  }

  private static void manyStreams(RawHttp3Client client, int count) throws Exception {
    List<CompletableFuture<RawHttp3Client.Response>> opened = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      opened.add(client.open(true).thenApply(response -> {
        response.stream().write(
            concat(grpcHeaders(TestService.ECHO), grpcMessage(new byte[] {2})), true);
        return response;
      }));
    }
    for (CompletableFuture<RawHttp3Client.Response> open : opened) {
      open.get(60, TimeUnit.SECONDS).ended.get(60, TimeUnit.SECONDS);
    }
  }

  private void flood(RawHttp3Client client) throws Exception {
    RawHttp3Client.Response response = client.open(true).get(60, TimeUnit.SECONDS);
    response.stream().write(grpcHeaders(TestService.ECHO), false);
    ByteBuffer empty = ByteBuffer.allocate(20_000); // 10,000 DATA frames of length 0
    ByteBuffer unknown = ByteBuffer.allocate(20_000);
    while (unknown.hasRemaining()) {
      unknown.put((byte) 0x21).put((byte) 0x00); // reserved type 0x21, length 0
    }
    for (int i = 0; i < 10; i++) {
      response.stream().write(empty.duplicate().clear(), false);
      response.stream().write(unknown.duplicate().flip(), false);
    }
    response.stream().write(grpcMessage(new byte[] {3}), true);
    response.ended.get(60, TimeUnit.SECONDS);
  }

  private static void resetStorm(RawHttp3Client client, CallCounter calls) throws Exception {
    long before = calls.started(TestService.HANG);
    List<RawHttp3Client.Response> opened = new ArrayList<>();
    for (int i = 0; i < MAX_STREAMS / 2; i++) {
      RawHttp3Client.Response response = client.open(true).get(60, TimeUnit.SECONDS);
      response.stream().write(
          concat(grpcHeaders(TestService.HANG), grpcMessage(new byte[] {1})), false);
      opened.add(response);
    }
    calls.awaitStarted(TestService.HANG, before + opened.size(), 60, TimeUnit.SECONDS);
    for (RawHttp3Client.Response response : opened) {
      response.stream().reset(Http3ErrorCode.H3_REQUEST_CANCELLED);
      response.stream().stopSending(Http3ErrorCode.H3_REQUEST_CANCELLED);
    }
  }

  private void slowloris(RawHttp3Client client) throws Exception {
    List<RawHttp3Client.Response> stuck = new ArrayList<>();
    for (int i = 0; i < MAX_STREAMS; i++) {
      RawHttp3Client.Response response = client.open(true).get(60, TimeUnit.SECONDS);
      response.stream().write(ByteBuffer.wrap(new byte[] {0x01}), false);
      stuck.add(response);
    }
    for (RawHttp3Client.Response response : stuck) {
      response.reset.get(60, TimeUnit.SECONDS);
    }
  }
}
