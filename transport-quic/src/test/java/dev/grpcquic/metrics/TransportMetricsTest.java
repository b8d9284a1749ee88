package dev.grpcquic.metrics;

import static dev.grpcquic.metrics.MetricsReader.client;
import static dev.grpcquic.metrics.MetricsReader.server;
import static dev.grpcquic.metrics.MetricsReader.where;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.QuicCallOptions;
import dev.grpcquic.QuicEngine;
import dev.grpcquic.QuicEngines;
import dev.grpcquic.QuicMigrationController;
import dev.grpcquic.testing.CountingTicketStore;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestEngine;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The transport's own instruments ({@code openTelemetry(...)} on both builders), read with the
 * SDK's in-memory reader, on real QUIC connections.
 */
@Timeout(120)
class TransportMetricsTest {
  private static final byte[] REQUEST = {1, 2, 3};

  /**
   * Cold, 0-RTT and resumed handshakes (on an engine without 0-RTT: three handshakes, the first
   * cold); the per-connection gauges; closes on both sides.
   */
  @Test
  void connectionsHandshakesGaugesAndCloses() throws Exception {
    boolean earlyData = TestEngine.get().supports(QuicEngine.Feature.EARLY_DATA);
    try (MetricsReader metrics = new MetricsReader();
        QuicTestServer server = new QuicTestServer(b -> b.openTelemetry(metrics.sdk))) {
      CountingTicketStore store = new CountingTicketStore();
      ManagedChannel cold = server.track(server.channelBuilder().openTelemetry(metrics.sdk)
          .sessionTicketStore(store).build());
      call(cold, CallOptions.DEFAULT);
      if (earlyData) {
        store.awaitPuts(1);
      }
      ManagedChannel early = server.track(server.channelBuilder().openTelemetry(metrics.sdk)
          .sessionTicketStore(store).build());
      call(early, CallOptions.DEFAULT.withOption(QuicCallOptions.EARLY_DATA, true));
      if (earlyData) {
        store.awaitPuts(2);
      }
      ManagedChannel resumed = server.track(server.channelBuilder().openTelemetry(metrics.sdk)
          .sessionTicketStore(store).build());
      call(resumed, CallOptions.DEFAULT);

      assertEquals(3, metrics.sum("quic.handshake.duration", client()),
          metrics.dump("quic.handshake.duration"));
      // Without 0-RTT (the quiche engine) the channels here get no ticket: all three are cold.
      assertEquals(earlyData ? 1 : 3, metrics.sum("quic.handshake.duration",
          where("quic.handshake.type", "cold")), metrics.dump("quic.handshake.duration"));
      if (earlyData) {
        assertEquals(1, metrics.sum("quic.handshake.duration",
            where("quic.handshake.type", "0rtt")), metrics.dump("quic.handshake.duration"));
        assertEquals(1, metrics.sum("quic.handshake.duration",
            where("quic.handshake.type", "resumed")), metrics.dump("quic.handshake.duration"));
        assertEquals(1, metrics.sum("quic.zero_rtt", where("quic.zero_rtt.outcome", "accepted")),
            metrics.dump("quic.zero_rtt"));
      }
      assertEquals(3, metrics.sum("quic.connection.opened", client()));
      assertEquals(3, metrics.awaitSum("quic.connection.opened", server(), 3));
      assertEquals(3, metrics.sum("quic.connection.active", client()));
      // Per connection: three client connections (told apart by local port), three on the server.
      assertEquals(3, metrics.points("quic.connection.rtt", client()).size(),
          metrics.dump("quic.connection.rtt"));
      assertEquals(3, metrics.points("quic.connection.rtt", server()).size(),
          metrics.dump("quic.connection.rtt"));
      assertEquals(3, metrics.points("quic.connection.congestion_window", client()).size(),
          metrics.dump("quic.connection.congestion_window"));
      assertTrue(metrics.sum("quic.packets.sent", client()) > 0);
      assertTrue(metrics.sum("quic.packets.sent", server()) > 0);
      assertEquals(2, metrics.points("quic.packets.lost", a -> true).size(),
          metrics.dump("quic.packets.lost")); // client and server, whatever the count
      double sentBefore = metrics.sum("quic.packets.sent", client());

      for (ManagedChannel channel : new ManagedChannel[] {cold, early, resumed}) {
        channel.shutdown();
        assertTrue(channel.awaitTermination(30, TimeUnit.SECONDS));
      }
      metrics.awaitSum("quic.connection.closed", server(), 3);
      metrics.awaitSum("quic.connection.closed", client(), 3);
      assertEquals(3, metrics.sum("quic.connection.closed",
          client().and(where("quic.close.by_peer", false))), metrics.dump("quic.connection.closed"));
      assertEquals(3, metrics.sum("quic.connection.closed",
          server().and(where("quic.close.by_peer", true))), metrics.dump("quic.connection.closed"));
      assertEquals(0, metrics.sum("quic.connection.active", a -> true));
      assertTrue(metrics.points("quic.connection.rtt", a -> true).isEmpty(),
          "closed connections are no longer sampled");
      // Packets of closed connections still count: the counter never goes down.
      assertTrue(metrics.sum("quic.packets.sent", client()) >= sentBefore);
    }
  }

  /**
   * The server counts a client's move to a new port, whatever its engine: the client is kwik's,
   * the only one that migrates on request.
   */
  @Test
  void serverCountsItsClientsMoveToANewPort() throws Exception {
    try (MetricsReader metrics = new MetricsReader();
        QuicTestServer server = new QuicTestServer(b -> b.openTelemetry(metrics.sdk))) {
      QuicMigrationController migration = new QuicMigrationController();
      ManagedChannel channel = server.track(server.channelBuilder().engine(QuicEngines.kwik())
          .migrationController(migration).build());
      ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), new byte[] {1});
      assertEquals(1, migration.migrate());
      ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), new byte[] {2});
      metrics.awaitSum("quic.connection.peer_address_changes", server(), 1);
    }
  }

  /**
   * A client stream blocked by the server's flow control (a sink that reads nothing): the server
   * holds unconsumed bytes, the cancel is counted as a reset on both sides, and the client's
   * blocked episode is recorded. A migration of the client connection is counted (on engines
   * that migrate).
   */
  @Test
  void blockedStreamResetsUnconsumedBytesAndMigration() throws Exception {
    try (MetricsReader metrics = new MetricsReader();
        QuicTestServer server = new QuicTestServer(b -> b.openTelemetry(metrics.sdk)
            .flowControlWindow(64 * 1024))) {
      boolean migrates = TestEngine.get().supports(QuicEngine.Feature.CLIENT_MIGRATION);
      QuicMigrationController migration = new QuicMigrationController();
      var builder = server.channelBuilder().openTelemetry(metrics.sdk);
      ManagedChannel channel = server.track(
          (migrates ? builder.migrationController(migration) : builder).build());
      call(channel, CallOptions.DEFAULT);
      if (migrates) {
        assertEquals(1, migration.migrate());
        assertEquals(1, metrics.sum("quic.connection.migrations", client()));
        call(channel, CallOptions.DEFAULT); // the moved connection works
        // The server followed the client to its new port (kwik's engine reports the move).
        metrics.awaitSum("quic.connection.peer_address_changes", server(), 1);
      }

      ClientCall<byte[], byte[]> sink = channel.newCall(TestService.SINK,
          CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
      CompletableFuture<Status> closed = new CompletableFuture<>();
      sink.start(new ClientCall.Listener<>() {
        @Override
        public void onClose(Status status, Metadata trailers) {
          closed.complete(status);
        }
      }, new Metadata());
      for (int i = 0; i < 32; i++) {
        sink.sendMessage(new byte[64 * 1024]); // 2 MiB against a 64 KiB window
      }
      ServerCall<byte[], byte[]> serverCall = server.service.sinkCalls.poll(30, TimeUnit.SECONDS);
      assertTrue(serverCall != null, "the sink call did not arrive");
      metrics.awaitSum("quic.server.unconsumed_bytes", server(), 1);
      assertTrue(metrics.sum("quic.server.unconsumed_bytes", server()) <= 2 * 64 * 1024,
          metrics.dump("quic.server.unconsumed_bytes"));

      sink.cancel("test cancels", null);
      assertEquals(Status.Code.CANCELLED, closed.get(30, TimeUnit.SECONDS).getCode());
      assertTrue(metrics.sum("quic.stream.resets", client()
          .and(where("network.io.direction", "transmit"))
          .and(where("error.type", "H3_REQUEST_CANCELLED"))) >= 1,
          metrics.dump("quic.stream.resets"));
      assertTrue(metrics.sum("quic.stream.blocked.duration", client()) >= 1,
          metrics.dump("quic.stream.blocked.duration"));
      if (TestEngine.isKwik()) {
        // The quiche engine did not report this reset to the server within 120 s (the sink's
        // stream reads nothing), and its call let its bytes go only after about 30 s; seen
        // 2026-12-03, left to the engine.
        // The server learns of the cancel from the client's RESET_STREAM (received) or, when its
        // stalled reader is not reading, from the STOP_SENDING watch, and then resets its own
        // side (transmitted): either counts (a CI run saw only the second).
        metrics.awaitSum("quic.stream.resets", server(), 1);
        assertEquals(0, metrics.awaitSumAtMost("quic.server.unconsumed_bytes", server(), 0));
      }
    }
  }

  private static void call(ManagedChannel channel, CallOptions options) {
    assertArrayEquals(REQUEST, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
        options.withDeadlineAfter(30, TimeUnit.SECONDS), REQUEST));
  }
}
