package dev.grpcquic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.testing.PingPongCall;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import dev.grpcquic.testing.StaticResolverProvider;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.NameResolverRegistry;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One channel over three QUIC servers with round_robin: calls spread over all three, and when one
 * server drains (shutdown, GOAWAY) its calls in flight finish, new calls go to the other two, and
 * no call fails.
 */
@Timeout(120)
class LoadBalancingTest {
  private static final Metadata.Key<String> SERVER_ID =
      Metadata.Key.of("server-id", Metadata.ASCII_STRING_MARSHALLER);
  private static final String SCHEME = "quic-lb-test";

  @Test
  void roundRobinSpreadsCallsAndADrainingServerFailsNone() throws Exception {
    List<QuicTestServer> servers = new ArrayList<>();
    StaticResolverProvider resolver = null;
    try {
      for (int i = 0; i < 3; i++) {
        String id = "s" + i;
        servers.add(new QuicTestServer(b -> b.intercept(tagWith(id))));
      }
      List<SocketAddress> addresses = new ArrayList<>();
      for (QuicTestServer s : servers) {
        addresses.add(new InetSocketAddress("127.0.0.1", s.port()));
      }
      // The channel builder has no per-channel registry; the scheme is this test's own.
      resolver = new StaticResolverProvider(SCHEME, addresses);
      NameResolverRegistry.getDefaultRegistry().register(resolver);
      ManagedChannel channel = servers.get(0).track(QuicChannelBuilder.forTarget(SCHEME + ":///three")
          .engine(dev.grpcquic.testing.TestEngine.get())
          .defaultLoadBalancingPolicy("round_robin")
          .overrideAuthority("localhost")
          .trustManager(TestTls.get().trustManager())
          .build());

      // Until every subchannel is READY, round_robin picks among those that are.
      Map<String, Integer> seen = new HashMap<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (seen.size() < 3 && System.nanoTime() < deadline) {
        seen.merge(unary(channel), 1, Integer::sum);
      }
      assertEquals(3, seen.size(), "calls reached only " + seen);

      Map<String, Integer> spread = new HashMap<>();
      for (int i = 0; i < 30; i++) {
        spread.merge(unary(channel), 1, Integer::sum);
      }
      for (int i = 0; i < 3; i++) {
        assertTrue(spread.getOrDefault("s" + i, 0) >= 5, "uneven spread: " + spread);
      }

      // Bidi calls held open: round_robin puts some on every server, s1 included.
      List<Pinger> open = new ArrayList<>();
      for (int i = 0; i < 9; i++) {
        open.add(new Pinger(channel));
      }
      List<Pinger> onDrained = new ArrayList<>();
      for (Pinger p : open) {
        if (p.server.equals("s1")) {
          onDrained.add(p);
        }
      }
      assertTrue(!onDrained.isEmpty(), "no call in flight on s1");

      servers.get(1).server().shutdown(); // GOAWAY: in-flight calls go on, new ones go elsewhere

      // No new call fails; once the client has the GOAWAY, none goes to s1.
      int sinceLastOnDrained = 0;
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (sinceLastOnDrained < 10 && System.nanoTime() < deadline) {
        sinceLastOnDrained = unary(channel).equals("s1") ? 0 : sinceLastOnDrained + 1;
      }
      assertEquals(10, sinceLastOnDrained, "calls still reach the draining server");
      Map<String, Integer> after = new HashMap<>();
      for (int i = 0; i < 30; i++) {
        after.merge(unary(channel), 1, Integer::sum);
      }
      assertEquals(0, after.getOrDefault("s1", 0), after.toString());
      assertTrue(after.getOrDefault("s0", 0) >= 5 && after.getOrDefault("s2", 0) >= 5,
          "uneven spread over the remaining two: " + after);

      // The calls in flight on s1 still work, then end OK; then s1 terminates.
      for (Pinger p : open) {
        p.pingAndFinish();
      }
      assertTrue(servers.get(1).server().awaitTermination(30, TimeUnit.SECONDS),
          "the drained server did not terminate after its calls ended");
    } finally {
      for (QuicTestServer s : servers) {
        s.close();
      }
      if (resolver != null) {
        NameResolverRegistry.getDefaultRegistry().deregister(resolver);
      }
    }
  }

  /**
   * A draining server refuses new QUIC connections (CONNECTION_REFUSED in reply to the Initial),
   * as a closed TCP listener would: the call fails UNAVAILABLE long before its deadline or the
   * connect timeout, so a load balancer moves on at once.
   */
  @Test
  void aDrainingServerRefusesNewConnections() throws Exception {
    try (QuicTestServer server = new QuicTestServer()) {
      ManagedChannel first = server.channel();
      CompletableFuture<Status> hanging = TestService.startHang(first, new Metadata());
      assertTrue(server.service.hangStarted.await(30, TimeUnit.SECONDS), "hang did not start");
      server.server().shutdown(); // drains: the hanging call keeps it from terminating

      ManagedChannel second = server.track(server.channelBuilder()
          .connectTimeout(100, TimeUnit.SECONDS).build());
      io.grpc.StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
          io.grpc.StatusRuntimeException.class,
          () -> io.grpc.stub.ClientCalls.blockingUnaryCall(second, TestService.ECHO,
              CallOptions.DEFAULT.withDeadlineAfter(90, TimeUnit.SECONDS), new byte[1]));
      assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
      assertTrue(e.getStatus().getDescription().contains("CONNECTION_REFUSED"), e.toString());
      assertTrue(!server.server().isTerminated(), "the server was still draining");
      first.shutdownNow();
      hanging.get(30, TimeUnit.SECONDS);
    }
  }

  /** One unary call; returns the id of the server that answered, fails on any error. */
  private static String unary(ManagedChannel channel) throws Exception {
    ClientCall<byte[], byte[]> call = channel.newCall(TestService.ECHO,
        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
    CompletableFuture<String> server = new CompletableFuture<>();
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onHeaders(Metadata headers) {
        server.complete(headers.get(SERVER_ID));
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.request(1);
    call.sendMessage(new byte[] {7});
    call.halfClose();
    Status status = closed.get(40, TimeUnit.SECONDS);
    assertTrue(status.isOk(), "a call failed: " + status);
    return server.getNow(null);
  }

  /** A ping-pong call kept open, and the server that took it. */
  private static final class Pinger {
    final PingPongCall call;
    final String server;

    Pinger(ManagedChannel channel) throws Exception {
      call = new PingPongCall(channel, CallOptions.DEFAULT.withDeadlineAfter(100, TimeUnit.SECONDS));
      call.roundTrip(1);
      server = call.headers.get(1, TimeUnit.SECONDS).get(SERVER_ID);
    }

    void pingAndFinish() throws Exception {
      call.roundTrip(2);
      call.finishOk();
    }
  }

  /** Tags every response with the server's id. */
  private static ServerInterceptor tagWith(String id) {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        return next.startCall(new SimpleForwardingServerCall<>(call) {
          @Override
          public void sendHeaders(Metadata responseHeaders) {
            responseHeaders.put(SERVER_ID, id);
            super.sendHeaders(responseHeaders);
          }
        }, headers);
      }
    };
  }

}
