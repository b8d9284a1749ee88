package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.testing.LogCapture;
import dev.grpcquic.testing.PingPongCall;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestTls;
import dev.grpcquic.testing.UdpRelay;
import java.net.InetSocketAddress;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.QuicAttributes;
import dev.grpcquic.stats.QuicConnectionStats;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientTransportFilter;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Shutdown with GOAWAY, shutdownNow, a peer that goes away, QUIC idle timeout. */
@Timeout(60)
class LifecycleTest {
  private static final String QUIET_PATH_PROBE = "dev.grpcquic.engine.kwik.QuietPathProbe";

  /** A started bidi call with its received messages and final status. */
  @Test
  void gracefulServerShutdownLetsCallsInFlightFinish() throws Exception {
    try (QuicTestServer server = new QuicTestServer()) {
      ManagedChannel channel = server.channel();
      PingPongCall call = new PingPongCall(channel, CallOptions.DEFAULT);
      call.roundTrip(1);
      server.server().shutdown(); // GOAWAY: the call in flight goes on
      call.roundTrip(2);
      call.roundTrip(3);
      call.finishOk();
      assertTrue(server.server().awaitTermination(10, TimeUnit.SECONDS));
      // New calls cannot reach the stopped server.
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
              CallOptions.DEFAULT.withDeadlineAfter(3, TimeUnit.SECONDS), new byte[1]));
      assertTrue(e.getStatus().getCode() == Status.Code.UNAVAILABLE
          || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED, e.toString());
    }
  }

  @Test
  void serverShutdownNowFailsClientCallsUnavailable() throws Exception {
    try (QuicTestServer server = new QuicTestServer()) {
      PingPongCall call = new PingPongCall(server.channel(), CallOptions.DEFAULT);
      call.roundTrip(1);
      server.server().shutdownNow();
      Status status = call.closed.get(20, TimeUnit.SECONDS);
      assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());
      assertTrue(server.server().awaitTermination(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void clientShutdownNowCancelsServerCalls() throws Exception {
    try (QuicTestServer server = new QuicTestServer()) {
      server.service.hangStarted = new CountDownLatch(1);
      ManagedChannel channel = server.channelBuilder().build();
      CompletableFuture<Status> closed = TestService.startHang(channel, new Metadata());
      assertTrue(server.service.hangStarted.await(10, TimeUnit.SECONDS));
      channel.shutdownNow();
      assertEquals(Status.Code.UNAVAILABLE, closed.get(10, TimeUnit.SECONDS).getCode());
      Status serverSide = server.service.hangEnded.poll(10, TimeUnit.SECONDS);
      assertNotNull(serverSide, "server call was not cancelled");
      assertEquals(Status.Code.CANCELLED, serverSide.getCode());
      assertTrue(channel.awaitTermination(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void channelShutdownWaitsForCallsInFlight() throws Exception {
    try (QuicTestServer server = new QuicTestServer()) {
      ManagedChannel channel = server.channelBuilder().build();
      PingPongCall call = new PingPongCall(channel, CallOptions.DEFAULT);
      call.roundTrip(1);
      channel.shutdown();
      call.roundTrip(2);
      call.finishOk();
      assertTrue(channel.awaitTermination(10, TimeUnit.SECONDS));
    }
  }

  @Test
  @Timeout(150)
  void quicIdleTimeoutClosesQuietConnectionAndChannelReconnects() throws Exception {
    // A PING of the quiet-path probe (which pings only while request streams are open) keeps
    // the connection out of idle; on failure its log says which streams were open.
    // Once (CI, loaded machine) the client kept sending about 25 small ack-eliciting packets a
    // second with no probe logged: the send-stall guard's nudges are captured too.
    try (LogCapture probe = new LogCapture(QUIET_PATH_PROBE, Level.FINE);
        LogCapture guard = new LogCapture("dev.grpcquic.engine.kwik.SendStallGuard", Level.FINE);
        QuicTestServer server = new QuicTestServer(
        b -> b.quicIdleTimeout(1, TimeUnit.SECONDS))) {
      // The transport's own end, as grpc-core reports it to transport filters: no sleep, and no
      // race with the channel's state moving on.
      CountDownLatch terminated = new CountDownLatch(1);
      AtomicReference<Supplier<QuicConnectionStats>> stats = new AtomicReference<>();
      ManagedChannel channel = server.track(server.channelBuilder()
          .quicIdleTimeout(1, TimeUnit.SECONDS)
          .addTransportFilter(new ClientTransportFilter() {
            @Override
            public void transportTerminated(Attributes attrs) {
              terminated.countDown();
            }
          })
          .build());
      ClientCall<byte[], byte[]> first = channel.newCall(TestService.ECHO, CallOptions.DEFAULT);
      assertEquals(1, ClientCalls.blockingUnaryCall(first, new byte[1]).length);
      stats.set(first.getAttributes().get(QuicAttributes.CONNECTION_STATS));
      // RFC 9000 10.1: the idle period is at least three probe timeouts, and kwik applies that
      // rule. On a loaded machine one slow handshake sample makes the PTO (srtt + 4 rttvar +
      // max_ack_delay) seconds long, so the wait follows the connection's own figures.
      QuicConnectionStats atStart = stats.get().get();
      long ptoMillis = atStart.smoothedRttMillis() + 4L * atStart.rttVarianceMillis() + 25;
      long waitMillis = 30_000 + 3 * Math.max(1000, 3 * ptoMillis);
      assertTrue(terminated.await(Math.min(waitMillis, 120_000), TimeUnit.MILLISECONDS),
          () -> "connection did not time out in " + waitMillis + " ms; stats at start "
              + atStart + ", now " + stats.get().get() + "; probe log: " + probe.lines()
              + "; send-stall guard nudges: " + lastOf(guard.lines(), 5));
      assertEquals(2, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT, new byte[2]).length);
    }
  }

  @Test
  void keepAliveHoldsQuietConnectionOpenPastIdleTimeout() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(dev.grpcquic.testing.TestEngine.get()
        .supports(dev.grpcquic.QuicEngine.Feature.KEEPALIVE_PING), "engine without PING");
    try (QuicTestServer server = new QuicTestServer(
        b -> b.quicIdleTimeout(2, TimeUnit.SECONDS))) {
      ManagedChannel channel = server.track(server.channelBuilder()
          .quicIdleTimeout(2, TimeUnit.SECONDS).keepAliveTime(1, TimeUnit.SECONDS).build());
      assertEquals(1, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT, new byte[1]).length);
      // A HANG call with a deadline of 5 s (past two idle timeouts) must end by its deadline,
      // not by the connection dying (which would be UNAVAILABLE).
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> ClientCalls.blockingUnaryCall(channel, TestService.HANG,
              CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), new byte[0]));
      assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), e.toString());
    }
  }

  @Test
  @Timeout(90)
  void peerThatVanishesFailsClientCallsUnavailableAndCancelsServerCalls() throws Exception {
    try (QuicTestServer server = new QuicTestServer(b -> b.quicIdleTimeout(2, TimeUnit.SECONDS));
         UdpRelay relay = new UdpRelay(new InetSocketAddress("127.0.0.1", server.port()), 1)) {
      server.service.hangStarted = new CountDownLatch(1);
      ManagedChannel channel = server.track(QuicChannelBuilder.forAddress("127.0.0.1", relay.port())
          .overrideAuthority("localhost").trustManager(TestTls.get().trustManager())
          .quicIdleTimeout(2, TimeUnit.SECONDS).build());
      CompletableFuture<Status> closed = TestService.startHang(channel, new Metadata());
      assertTrue(server.service.hangStarted.await(10, TimeUnit.SECONDS));
      relay.blackhole(true); // both peers fall silent for each other, with no CONNECTION_CLOSE
      Status clientSide = closed.get(60, TimeUnit.SECONDS);
      assertEquals(Status.Code.UNAVAILABLE, clientSide.getCode(), clientSide.toString());
      Status serverSide = server.service.hangEnded.poll(60, TimeUnit.SECONDS);
      assertNotNull(serverSide, "server call did not end");
      assertEquals(Status.Code.CANCELLED, serverSide.getCode(), serverSide.toString());
    }
  }

  /** The count and the last {@code n} of {@code lines}. */
  private static String lastOf(java.util.List<String> lines, int n) {
    return lines.size() + ", last " + lines.subList(Math.max(0, lines.size() - n), lines.size());
  }
}
