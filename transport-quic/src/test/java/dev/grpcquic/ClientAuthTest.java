package dev.grpcquic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Mutual TLS on the quiche engine's server: a client with a certificate from the trusted CA is
 * served, one without is refused in the handshake; kwik's server says at build() that it cannot.
 */
@Timeout(60)
class ClientAuthTest {

  @Test
  void quicheServerRequiresAndAcceptsClientCertificates() throws Exception {
    TestTls tls = TestTls.get();
    try (QuicTestServer server = new QuicTestServer(b -> {
      try {
        return b.engine(QuicEngines.quiche()).requireClientAuth(tls.caPem().toFile());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    })) {
      for (QuicEngine clientEngine : new QuicEngine[] {QuicEngines.kwik(), QuicEngines.quiche()}) {
        ManagedChannel withCert = server.track(QuicTestServer.channelBuilder(server.port())
            .engine(clientEngine)
            .clientCertificate(tls.clientCertChainPem().toFile(), tls.clientKeyPem().toFile())
            .build());
        assertArrayEquals(new byte[] {4}, ClientCalls.blockingUnaryCall(withCert,
            TestService.ECHO, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS),
            new byte[] {4}), clientEngine + " client with a certificate");

        // A quiche client completes its handshake before the server checks the certificate and
        // does not hear the server's refusal: it fails at the connect timeout, as the missing
        // SETTINGS say (a kwik client hears the refusal at once).
        ManagedChannel without = server.track(QuicTestServer.channelBuilder(server.port())
            .engine(clientEngine)
            .connectTimeout(3, TimeUnit.SECONDS)
            .build());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
            () -> ClientCalls.blockingUnaryCall(without, TestService.ECHO,
                CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), new byte[] {5}));
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), clientEngine + ": " + e);
      }
    }
  }

  @Test
  void kwikServerRefusesClientAuthAtBuild() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new QuicTestServer(b -> b.engine(QuicEngines.kwik())
            .requireClientAuth(TestTls.get().trustManager())));
    assertTrue(e.getMessage().contains("quiche"), e.getMessage());
  }
}
