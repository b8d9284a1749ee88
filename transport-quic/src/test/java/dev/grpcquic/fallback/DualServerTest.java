package dev.grpcquic.fallback;

import static dev.grpcquic.fallback.FallbackFixtures.echo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A QuicServerBuilder server with alsoServeTcp: one Server, HTTP/3 on UDP and HTTP/2 on TCP. */
@Timeout(60)
class DualServerTest {

  private static Server dual(TestService service, UnaryOperator<QuicServerBuilder> configure)
      throws Exception {
    TestTls tls = TestTls.get();
    QuicServerBuilder builder = QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .keyStore(tls.serverKeyStore(), tls.keyAlias(), tls.keyPassword())
        .addService(service.definition())
        .alsoServeTcp(true);
    return configure.apply(builder).build().start();
  }

  private static ManagedChannel tcpChannel(int port) throws Exception {
    return NettyChannelBuilder.forAddress("127.0.0.1", port,
            TlsChannelCredentials.newBuilder().trustManager(TestTls.get().trustManager()).build())
        .overrideAuthority("localhost")
        .build();
  }

  /** The response headers (or trailers of a trailers-only response) of one call. */
  private static Metadata responseHeaders(Channel channel, byte[] request,
      io.grpc.MethodDescriptor<byte[], byte[]> method) {
    CompletableFuture<Metadata> headers = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = channel.newCall(method, CallOptions.DEFAULT
        .withDeadlineAfter(20, TimeUnit.SECONDS));
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onHeaders(Metadata h) {
        headers.complete(h);
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        headers.complete(trailers);
      }
    }, new Metadata());
    call.request(1);
    call.sendMessage(request);
    call.halfClose();
    return headers.join();
  }

  @Test
  void servesBothProtocolsOnOnePortAndAdvertisesHttp3OverTcp() throws Exception {
    TestService service = new TestService();
    Server server = dual(service, UnaryOperator.identity());
    ManagedChannel quic = null;
    ManagedChannel tcp = null;
    try {
      List<? extends SocketAddress> sockets = server.getListenSockets();
      assertEquals(2, sockets.size(), sockets.toString());
      int port = ((InetSocketAddress) sockets.get(0)).getPort();
      assertEquals(port, ((InetSocketAddress) sockets.get(1)).getPort());

      quic = QuicTestServer.channelBuilder(port).build();
      FallbackFixtures.CallResult overQuic = echo(quic);
      assertTrue(overQuic.status().isOk(), overQuic.toString());
      assertEquals("h3", overQuic.protocol());
      assertNull(responseHeaders(quic, new byte[] {1}, TestService.ECHO).get(AltSvc.HEADER),
          "HTTP/3 responses do not advertise HTTP/3");

      tcp = tcpChannel(port);
      assertEquals(1, ClientCalls.blockingUnaryCall(tcp, TestService.ECHO, CallOptions.DEFAULT,
          new byte[] {7}).length);
      String expected = "h3=\":" + port + "\"; ma=86400";
      assertEquals(expected, responseHeaders(tcp, new byte[] {1}, TestService.ECHO)
          .get(AltSvc.HEADER));
      // A trailers-only response: the trailers are the only HEADERS frame and carry it.
      assertEquals(expected, responseHeaders(tcp,
          TestService.failRequest(Status.Code.NOT_FOUND, "no"), TestService.FAIL)
          .get(AltSvc.HEADER));
    } finally {
      shutdown(quic, tcp);
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
    assertTrue(server.isTerminated());
  }

  @Test
  void altSvcMaxAgeZeroSendsNone() throws Exception {
    TestService service = new TestService();
    Server server = dual(service, b -> b.altSvcMaxAge(0, TimeUnit.SECONDS));
    ManagedChannel tcp = null;
    try {
      tcp = tcpChannel(FallbackFixtures.port(server));
      assertNull(responseHeaders(tcp, new byte[] {1}, TestService.ECHO).get(AltSvc.HEADER));
    } finally {
      shutdown(tcp);
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void shutdownDrainsCallsInFlightOnBothSides() throws Exception {
    TestService service = new TestService();
    Server server = dual(service, UnaryOperator.identity());
    int port = FallbackFixtures.port(server);
    ManagedChannel quic = QuicTestServer.channelBuilder(port).build();
    ManagedChannel tcp = tcpChannel(port);
    try {
      CompletableFuture<Status> onQuic = sink(quic);
      CompletableFuture<Status> onTcp = sink(tcp);
      ServerCall<byte[], byte[]> first = service.sinkCalls.poll(20, TimeUnit.SECONDS);
      ServerCall<byte[], byte[]> second = service.sinkCalls.poll(20, TimeUnit.SECONDS);
      assertTrue(first != null && second != null, "both calls reached the server");

      server.shutdown();
      assertFalse(server.awaitTermination(200, TimeUnit.MILLISECONDS),
          "calls in flight hold the server");
      // New connections are refused on both sides.
      ManagedChannel late = QuicTestServer.channelBuilder(port)
          .connectTimeout(5, TimeUnit.SECONDS).build();
      try {
        assertFalse(echo(late).status().isOk());
      } finally {
        late.shutdownNow();
      }

      first.request(10);
      second.request(10);
      assertEquals(Status.Code.OK, onQuic.get(20, TimeUnit.SECONDS).getCode());
      assertEquals(Status.Code.OK, onTcp.get(20, TimeUnit.SECONDS).getCode());
      assertTrue(server.awaitTermination(20, TimeUnit.SECONDS));
    } finally {
      shutdown(quic, tcp);
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** A SINK call that sends one message and half-closes; the server reads when told. */
  private static CompletableFuture<Status> sink(Channel channel) {
    CompletableFuture<Status> done = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = channel.newCall(TestService.SINK,
        CallOptions.DEFAULT.withDeadlineAfter(40, TimeUnit.SECONDS));
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        done.complete(status);
      }
    }, new Metadata());
    call.request(1);
    call.sendMessage(new byte[100]);
    call.halfClose();
    return done;
  }

  private static void shutdown(ManagedChannel... channels) throws InterruptedException {
    for (ManagedChannel channel : channels) {
      if (channel != null) {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }
}
