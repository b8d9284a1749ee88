package dev.grpcquic.interop.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.grpcquic.QuicChannelBuilder;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mutual TLS from our client: kwik's server never asks for a client certificate, so the peer that
 * checks it is Netty's HTTP/3 server with client authentication required.
 */
@Timeout(60)
class ClientCertificateTest {
  private static NettyGrpcServer server;

  @BeforeAll
  static void start() throws Exception {
    server = new NettyGrpcServer(PeerCerts.serverChain(), PeerCerts.serverKey(), PeerCerts.ca());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static QuicChannelBuilder builder() throws Exception {
    return QuicChannelBuilder.forAddress("127.0.0.1", server.port())
        .engine(TestEngines.ours())
        .overrideAuthority("localhost")
        .trustCertificates(PeerCerts.ca())
        .connectTimeout(10, TimeUnit.SECONDS);
  }

  private static String call(ManagedChannel channel) {
    try {
      return SimpleServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
          .unaryRpc(SimpleRequest.newBuilder().setRequestMessage("mtls").build())
          .getResponseMessage();
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void clientCertificateIsAcceptedByAServerThatRequiresOne() throws Exception {
    ManagedChannel channel = builder()
        .clientCertificate(PeerCerts.clientChain(), PeerCerts.clientKey()).build();
    assertEquals("mtls", call(channel));
  }

  @Test
  void withoutClientCertificateTheHandshakeIsRefused() throws Exception {
    ManagedChannel channel = builder().build();
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> call(channel));
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
  }
}
