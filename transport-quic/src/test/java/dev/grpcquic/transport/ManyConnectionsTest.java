package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.grpcquic.testing.LogCapture;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestEngine;
import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCalls;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hundreds of connections opened back to back to one server, each with one call: every one's
 * control streams must be read whole and in order. When quiche peer streams began to be read in
 * the turn they arrive, the server's control stream often reached the client transport before
 * its connection did; the hand-over of such an early stream ({@code EarlyPeerStream}) then ran
 * its handler on two threads at once, and 16 of 1000 connections closed with
 * H3_MISSING_SETTINGS ("first control frame is 0x2000", bytes of the SETTINGS frame lost) after
 * their first call had succeeded. The quiche run only: on kwik each connection costs about a
 * dozen threads.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ManyConnectionsTest {
  private static final int CONNECTIONS = 300;

  @Test
  void everyConnectionReadsItsPeersControlStreamInOrder() throws Exception {
    assumeFalse(TestEngine.isKwik(), "a quiche test: kwik costs a dozen threads a connection");
    List<ManagedChannel> channels = new ArrayList<>();
    try (LogCapture errors = new LogCapture(Http3Control.class.getName(), Level.FINE);
        QuicTestServer server = new QuicTestServer(b -> b
            .maxConnections(CONNECTIONS + 16)
            .quicIdleTimeout(10, TimeUnit.MINUTES))) {
      try {
        for (int i = 0; i < CONNECTIONS; i++) {
          ManagedChannel channel = server.channelBuilder()
              .quicIdleTimeout(10, TimeUnit.MINUTES)
              .build();
          channels.add(channel);
          byte[] request = {(byte) i};
          assertArrayEquals(request, ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
              CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request),
              "call on connection " + i);
        }
        // A second call on each: one that finds its connection closed would open a new one.
        for (int i = 0; i < CONNECTIONS; i++) {
          byte[] request = {(byte) i, 2};
          ClientCalls.blockingUnaryCall(channels.get(i), TestService.ECHO,
              CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), request);
        }
        List<String> notReady = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS; i++) {
          ConnectivityState state = channels.get(i).getState(false);
          if (state != ConnectivityState.READY) {
            notReady.add(i + ": " + state);
          }
        }
        assertEquals(List.of(), notReady, "channels whose connection ended");
        assertEquals(List.of(), errors.lines(), "HTTP/3 connection errors");
      } finally {
        for (ManagedChannel channel : channels) {
          channel.shutdownNow();
        }
        for (ManagedChannel channel : channels) {
          channel.awaitTermination(10, TimeUnit.SECONDS);
        }
      }
    }
  }
}
