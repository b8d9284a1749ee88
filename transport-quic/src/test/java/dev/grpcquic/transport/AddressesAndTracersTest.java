package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ClientStreamTracer;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What grpc-java's interop suite expects from every transport: both ends' addresses on the call
 * attributes, and {@link ClientStreamTracer#outboundHeaders()} once the request headers are sent.
 */
@Timeout(60)
class AddressesAndTracersTest {

  @Test
  void callAttributesCarryLocalAndRemoteAddresses() throws Exception {
    AtomicReference<Attributes> serverAttrs = new AtomicReference<>();
    ServerInterceptor capture = new ServerInterceptor() {
      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
          Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        serverAttrs.set(call.getAttributes());
        return next.startCall(call, headers);
      }
    };
    try (QuicTestServer server = new QuicTestServer(b -> b.intercept(capture))) {
      CompletableFuture<Attributes> clientAttrs = new CompletableFuture<>();
      Channel channel = ClientInterceptors.intercept(server.channel(), new ClientInterceptor() {
        @Override
        public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
            MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
          return new ForwardingClientCall.SimpleForwardingClientCall<>(
              next.newCall(method, options)) {
            @Override
            public void start(Listener<RespT> listener, Metadata headers) {
              ClientCall<ReqT, RespT> call = this;
              super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                  listener) {
                @Override
                public void onClose(Status status, Metadata trailers) {
                  clientAttrs.complete(call.getAttributes());
                  super.onClose(status, trailers);
                }
              }, headers);
            }
          };
        }
      });
      ClientCalls.blockingUnaryCall(channel, TestService.ECHO, CallOptions.DEFAULT,
          "addresses".getBytes(StandardCharsets.UTF_8));

      InetSocketAddress serverAddress =
          (InetSocketAddress) server.server().getListenSockets().get(0);
      Attributes client = clientAttrs.get(10, TimeUnit.SECONDS);
      InetSocketAddress clientLocal = port(client.get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR));
      assertEquals(serverAddress.getPort(), port(client.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR))
          .getPort());
      assertTrue(clientLocal.getPort() > 0, "client local port " + clientLocal);

      Attributes server1 = serverAttrs.get();
      assertNotNull(server1);
      assertEquals(serverAddress, server1.get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR));
      assertEquals(clientLocal.getPort(),
          port(server1.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)).getPort());
    }
  }

  @Test
  void clientTracerSeesOutboundHeadersBeforeTheCallCloses() throws Exception {
    try (QuicTestServer server = new QuicTestServer()) {
      ManagedChannel channel = server.channel();
      AtomicInteger outboundHeaders = new AtomicInteger();
      AtomicInteger headersWhenClosed = new AtomicInteger(-1);
      CountDownLatch closed = new CountDownLatch(1);
      ClientStreamTracer.Factory factory = new ClientStreamTracer.Factory() {
        @Override
        public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info,
            Metadata headers) {
          return new ClientStreamTracer() {
            @Override
            public void outboundHeaders() {
              outboundHeaders.incrementAndGet();
            }

            @Override
            public void streamClosed(Status status) {
              headersWhenClosed.set(outboundHeaders.get());
              closed.countDown();
            }
          };
        }
      };
      ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT.withStreamTracerFactory(factory),
          "traced".getBytes(StandardCharsets.UTF_8));
      assertTrue(closed.await(10, TimeUnit.SECONDS));
      assertEquals(1, headersWhenClosed.get());
      assertEquals(1, outboundHeaders.get());
    }
  }

  private static InetSocketAddress port(SocketAddress address) {
    assertNotNull(address);
    return (InetSocketAddress) address;
  }
}
