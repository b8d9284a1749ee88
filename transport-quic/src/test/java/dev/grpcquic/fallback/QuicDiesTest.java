package dev.grpcquic.fallback;

import static dev.grpcquic.fallback.FallbackFixtures.echo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grpcquic.testing.TestService;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The server's UDP side stops while calls run: new calls move to TCP, and every call ends. */
@Timeout(90)
class QuicDiesTest {

  @Test
  void newCallsMoveToTcpAndNoCallIsLostWithoutAStatus() throws Exception {
    TestService service = new TestService();
    Server tcp = FallbackFixtures.nettyTlsServer(0, service);
    int port = FallbackFixtures.port(tcp);
    assumeTrue(FallbackFixtures.udpFree(port), "UDP port " + port + " is taken");
    Server quic = FallbackFixtures.quicServer(port, service);
    ManagedChannel channel = FallbackFixtures.fallbackChannel(port)
        .tcpFallbackDelay(10, TimeUnit.MINUTES) // QUIC wins the first race on a loaded machine too
        .build();
    try {
      assertEquals("h3", echo(channel).protocol());

      List<CompletableFuture<FallbackFixtures.CallResult>> calls = new ArrayList<>();
      CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS);
      for (int i = 0; i < 20; i++) {
        calls.add(FallbackFixtures.call(channel, options));
      }
      quic.shutdownNow(); // the UDP side stops: its connection closes, its port answers ICMP
      FallbackFixtures.CallResult after;
      do {
        after = FallbackFixtures.call(channel, options).join();
        calls.add(CompletableFuture.completedFuture(after));
      } while (!after.status().isOk());
      assertEquals("h2", after.protocol(), after.toString());
      for (int i = 0; i < 5; i++) {
        FallbackFixtures.CallResult next = echo(channel);
        assertTrue(next.status().isOk(), next.toString());
        assertEquals("h2", next.protocol());
      }
      int ok = 0;
      int failed = 0;
      for (CompletableFuture<FallbackFixtures.CallResult> call : calls) {
        FallbackFixtures.CallResult result = call.get(40, TimeUnit.SECONDS); // every call ends
        assertNotNull(result.status());
        if (result.status().isOk()) {
          ok++;
        } else {
          failed++;
          // Those that fail do so with a status a caller can act on, never a deadline.
          assertTrue(result.status().getCode() == Status.Code.UNAVAILABLE
              || result.status().getCode() == Status.Code.CANCELLED, result.toString());
        }
      }
      System.out.println("calls around the stop: " + ok + " ok, " + failed + " failed");
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      quic.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      tcp.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The UDP side drains instead (its GOAWAY, calls in flight finish): the channel's new connection
   * goes over TCP because the draining QUIC server refuses new handshakes (CONNECTION_REFUSED, a
   * failure known at once). Every call ends; almost all succeed. A call can still fail
   * UNAVAILABLE: HTTP/3 does not order the server's H3_REQUEST_REJECTED resets with its GOAWAY
   * (another stream), so a call refused by a reset may be retried on the same connection before
   * the GOAWAY arrives, and refused a second time, which grpc-core does not retry again.
   */
  @Test
  void aDrainingQuicSideLosesNoCall() throws Exception {
    TestService service = new TestService();
    Server tcp = FallbackFixtures.nettyTlsServer(0, service);
    int port = FallbackFixtures.port(tcp);
    assumeTrue(FallbackFixtures.udpFree(port), "UDP port " + port + " is taken");
    Server quic = FallbackFixtures.quicServer(port, service);
    ManagedChannel channel = FallbackFixtures.fallbackChannel(port)
        .tcpFallbackDelay(10, TimeUnit.MINUTES)
        .build();
    try {
      assertEquals("h3", echo(channel).protocol());
      List<CompletableFuture<FallbackFixtures.CallResult>> calls = new ArrayList<>();
      CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS);
      for (int i = 0; i < 20; i++) {
        calls.add(FallbackFixtures.call(channel, options));
      }
      quic.shutdown();
      FallbackFixtures.CallResult after;
      do {
        after = FallbackFixtures.call(channel, options).join();
        calls.add(CompletableFuture.completedFuture(after));
      } while (!"h2".equals(after.protocol()));
      int failed = 0;
      for (CompletableFuture<FallbackFixtures.CallResult> call : calls) {
        FallbackFixtures.CallResult result = call.get(40, TimeUnit.SECONDS); // every call ends
        if (!result.status().isOk()) {
          failed++;
          assertEquals(Status.Code.UNAVAILABLE, result.status().getCode(), result.toString());
        }
      }
      System.out.println("calls around the drain: " + (calls.size() - failed) + " ok, " + failed
          + " failed");
      assertTrue(quic.awaitTermination(30, TimeUnit.SECONDS));
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      quic.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      tcp.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
