package dev.grpcquic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** What only the quiche engine offers: a congestion-control choice, qlog, a server-side key log. */
@Timeout(60)
class QuicheEngineTest {

  @Test
  void bbrAndQlogOnBothEnds(@TempDir Path qlogs) throws Exception {
    QuicEngine engine = QuicEngines.quiche().congestionControl("bbr").qlogDirectory(qlogs);
    try (QuicTestServer server = new QuicTestServer(b -> b.engine(engine))) {
      ManagedChannel channel = server.track(QuicTestServer.channelBuilder(server.port())
          .engine(engine).build());
      byte[] request = "bbr".getBytes(StandardCharsets.UTF_8);
      assertArrayEquals(request, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), request));
    }
    // Both connections (client and server) wrote a qlog with quiche's events.
    List<Path> files;
    try (Stream<Path> listed = Files.list(qlogs)) {
      files = listed.filter(p -> p.toString().endsWith(".qlog")).toList();
    }
    assertTrue(files.size() >= 2, "qlog files: " + files);
    for (Path file : files) {
      String text = Files.readString(file);
      assertTrue(text.contains("packet_sent"), file + " has no packet_sent event");
    }
  }

  @Test
  void clientKeyLogHoldsTheConnectionsSecrets(@TempDir Path dir) throws Exception {
    Path keyLog = dir.resolve("keys.log");
    try (QuicTestServer server = new QuicTestServer(b -> b.engine(QuicEngines.quiche()))) {
      ManagedChannel channel = server.track(QuicTestServer.channelBuilder(server.port())
          .engine(QuicEngines.quiche()).keyLogFile(keyLog).build());
      ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), new byte[1]);
    }
    String text = Files.readString(keyLog);
    for (String label : List.of("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0")) {
      assertTrue(text.contains(label + " "), label + " missing in " + text);
    }
  }

  @Test
  void unknownCongestionControlIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> QuicEngines.quiche().congestionControl("vegas"));
    assertFalse(e.getMessage().isEmpty());
  }
}
