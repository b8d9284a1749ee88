package dev.grpcquic.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicEngines;
import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every engine against every other: a client on one engine calls a server on the other (and on
 * its own) with a unary call and a 4 MiB download, over real TLS on 127.0.0.1. The engines share
 * no code below HTTP/3, so each pairing checks one engine's QUIC against an independent one.
 */
@Timeout(60)
class CrossEngineTest {

  @ParameterizedTest(name = "{0} client -> {1} server")
  @CsvSource({"kwik, kwik", "kwik, quiche", "quiche, kwik", "quiche, quiche"})
  void callsCrossEngines(String clientEngine, String serverEngine) throws Exception {
    try (QuicTestServer server = new QuicTestServer(
        (QuicServerBuilder b) -> b.engine(QuicEngines.named(serverEngine)))) {
      ManagedChannel channel = server.track(QuicChannelBuilder.forAddress("127.0.0.1", server.port())
          .overrideAuthority("localhost")
          .trustManager(TestTls.get().trustManager())
          .engine(QuicEngines.named(clientEngine))
          .build());
      byte[] request = ("from " + clientEngine + " to " + serverEngine)
          .getBytes(StandardCharsets.UTF_8);
      assertArrayEquals(request, ClientCalls.blockingUnaryCall(
          channel, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), request));
      Iterator<byte[]> responses = ClientCalls.blockingServerStreamingCall(channel,
          TestService.DOWNLOAD, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS),
          TestService.downloadRequest(64, 64 * 1024));
      long bytes = 0;
      while (responses.hasNext()) {
        bytes += responses.next().length;
      }
      assertEquals(64L * 64 * 1024, bytes);
    }
  }
}
