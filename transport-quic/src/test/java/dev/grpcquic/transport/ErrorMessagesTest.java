package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.certs.CertificateGenerator;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestEngine;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import dev.grpcquic.tls.PemFiles;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A failed call says what went wrong and what to do: the certificate's real problem, a port where
 * nothing answers, a server that is shutting down. And a certificate's IP address entries are
 * checked like its DNS names. The certificate and network reasons are the kwik engine's own
 * (its certificate check and client socket); the others hold on every engine.
 */
@Timeout(120)
class ErrorMessagesTest {

  private static StatusRuntimeException failedEcho(ManagedChannel channel) {
    try {
      return assertThrows(StatusRuntimeException.class,
          () -> ClientCalls.blockingUnaryCall(channel, TestService.ECHO, CallOptions.DEFAULT,
              new byte[1]));
    } finally {
      channel.shutdownNow();
    }
  }

  private static void assertDescription(StatusRuntimeException e, String... parts) {
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
    String description = String.valueOf(e.getStatus().getDescription());
    for (String part : parts) {
      assertTrue(description.contains(part), "'" + part + "' missing in: " + description);
    }
  }

  @Test
  void wrongCaSaysThereIsNoTrustPath() throws Exception {
    assumeTrue(TestEngine.isKwik(), "the kwik engine's own check and socket");
    X509TrustManager otherCa = PemFiles.trustManager(
        PemFiles.trustStore(List.of(CertificateGenerator.generate().caCertificate())));
    try (QuicTestServer server = new QuicTestServer()) {
      StatusRuntimeException e = failedEcho(QuicChannelBuilder.forAddress("127.0.0.1", server.port())
          .engine(TestEngine.get()).overrideAuthority("localhost").trustManager(otherCa).build());
      assertDescription(e, "server certificate not trusted", "certification path");
    }
  }

  @Test
  void wrongHostNameListsTheCertificatesNames() throws Exception {
    assumeTrue(TestEngine.isKwik(), "the kwik engine's own check and socket");
    try (QuicTestServer server = new QuicTestServer()) {
      StatusRuntimeException e = failedEcho(
          server.channelBuilder().overrideAuthority("other.example").build());
      assertDescription(e, "other.example", "localhost", "127.0.0.1");
    }
  }

  @Test
  void ipAddressEntriesOfTheCertificateAreVerified() throws Exception {
    try (QuicTestServer server = new QuicTestServer()) {
      // The test certificate holds 127.0.0.1 and ::1: dialling the IP needs no overrideAuthority.
      ManagedChannel channel = server.track(QuicChannelBuilder.forAddress("127.0.0.1", server.port())
          .engine(TestEngine.get()).trustManager(TestTls.get().trustManager()).build());
      byte[] request = {1, 2, 3};
      assertArrayEquals(request, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT, request));
      // An address the certificate does not hold fails, and says which names it holds.
      StatusRuntimeException e = failedEcho(
          server.channelBuilder().overrideAuthority("127.0.0.2").build());
      assertDescription(e);
      if (TestEngine.isKwik()) { // the reason in words: the kwik engine's own check
        assertDescription(e, "127.0.0.2", "localhost", "127.0.0.1");
      }
    }
  }

  @Test
  @Timeout(60)
  void closedUdpPortFailsAtOnceWithoutWaitingForTheConnectTimeout() throws Exception {
    assumeTrue(TestEngine.isKwik(), "the kwik engine's own check and socket");
    int port;
    try (DatagramSocket socket = new DatagramSocket(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      port = socket.getLocalPort();
    }
    // A connect timeout above the test's: only the ICMP answer ends the call in time.
    StatusRuntimeException e = failedEcho(QuicTestServer.channelBuilder(port)
        .connectTimeout(5, TimeUnit.MINUTES).build());
    assertDescription(e, "no QUIC server answered at 127.0.0.1:" + port + " (UDP): port unreachable");
  }

  @Test
  void silentPathSaysNothingAnsweredWithinTheConnectTimeout() throws Exception {
    assumeTrue(TestEngine.isKwik(), "the kwik engine's own check and socket");
    try (DatagramSocket silent = new DatagramSocket(
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      StatusRuntimeException e = failedEcho(QuicTestServer.channelBuilder(silent.getLocalPort())
          .connectTimeout(1, TimeUnit.SECONDS).build());
      assertDescription(e, "no QUIC server answered at 127.0.0.1:" + silent.getLocalPort()
          + " (UDP)", "1000 ms");
    }
  }

  @Test
  void drainingServerSaysItIsShuttingDown() throws Exception {
    try (QuicTestServer server = new QuicTestServer()) {
      // A call in flight keeps the server draining, not stopped.
      server.service.hangStarted = new CountDownLatch(1);
      ManagedChannel first = server.channel();
      ClientCalls.asyncUnaryCall(first.newCall(TestService.HANG, CallOptions.DEFAULT),
          new byte[1], new io.grpc.stub.StreamObserver<byte[]>() {
            @Override
            public void onNext(byte[] value) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
          });
      assertTrue(server.service.hangStarted.await(30, TimeUnit.SECONDS));
      server.server().shutdown();
      StatusRuntimeException e = failedEcho(server.channelBuilder().build());
      assertDescription(e, "shutting down");
    }
  }
}
