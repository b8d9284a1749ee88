package dev.grpcquic.fallback;

import static dev.grpcquic.fallback.FallbackFixtures.echo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grpcquic.testing.TestService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What a "QUIC preferred" channel remembers: a QUIC endpoint that failed is skipped until its mark
 * expires; the server's {@code alt-svc} brings the channel back to QUIC. The first QUIC attempt
 * fails at once (nothing listens on the UDP port: ICMP port unreachable), and the race delay is
 * longer than the tests, so the mark is always set before the first call ends.
 */
@Timeout(60)
class BrokenMarkTest {

  @Test
  void afterAFailureTheNextConnectionStartsWithTcpUntilTheMarkExpires() throws Exception {
    TestService service = new TestService();
    Server tcpOnly = FallbackFixtures.nettyTlsServer(0, service);
    int port = FallbackFixtures.port(tcpOnly);
    assumeTrue(FallbackFixtures.udpFree(port), "UDP port " + port + " is taken");
    ManagedChannel longMark = FallbackFixtures.fallbackChannel(port)
        .tcpFallbackDelay(10, TimeUnit.MINUTES)
        .build();
    ManagedChannel shortMark = FallbackFixtures.fallbackChannel(port)
        .tcpFallbackDelay(10, TimeUnit.MINUTES)
        .quicBrokenBackoff(200, 400, TimeUnit.MILLISECONDS)
        .build();
    FallbackFixtures.TransportCounter quicCounter = new FallbackFixtures.TransportCounter();
    Server quic = null;
    try {
      assertEquals("h2", echo(longMark).protocol());
      assertEquals("h2", echo(shortMark).protocol());

      // QUIC comes up on that UDP port now.
      quic = FallbackFixtures.quicServer(port, service, quicCounter);

      longMark.enterIdle(); // the next call needs a new connection
      FallbackFixtures.CallResult marked = echo(longMark);
      assertTrue(marked.status().isOk(), marked.toString());
      assertEquals("h2", marked.protocol(), "QUIC is marked broken: TCP alone");
      assertEquals(0, quicCounter.quicOpened.get(), "QUIC was not even tried");

      // Once the short mark has expired, a new connection tries QUIC first again.
      FallbackFixtures.CallResult result;
      int connections = 0;
      do {
        shortMark.enterIdle();
        result = echo(shortMark);
        assertTrue(result.status().isOk(), result.toString());
        connections++;
      } while (!"h3".equals(result.protocol()));
      assertEquals(port, result.remotePort());
      System.out.println("connections until the mark expired: " + connections);
    } finally {
      longMark.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      shortMark.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      tcpOnly.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      if (quic != null) {
        quic.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * The channel starts on TCP (QUIC refused at the TCP port's number); the TCP server advertises
   * HTTP/3 on another UDP port; the channel moves there while its calls keep succeeding.
   */
  @Test
  void altSvcMovesAChannelThatStartedOnTcpToQuic() throws Exception {
    TestService service = new TestService();
    Server quic = FallbackFixtures.quicServer(0, service);
    int quicPort = FallbackFixtures.port(quic);
    Server tcpOnly = FallbackFixtures.nettyTlsServer(0, service,
        FallbackFixtures.altSvc("h3=\":" + quicPort + "\"; ma=60"));
    int port = FallbackFixtures.port(tcpOnly);
    assumeTrue(FallbackFixtures.udpFree(port), "UDP port " + port + " is taken");
    ManagedChannel channel = FallbackFixtures.fallbackChannel(port)
        .tcpFallbackDelay(10, TimeUnit.MINUTES)
        .build();
    try {
      FallbackFixtures.CallResult first = echo(channel);
      assertTrue(first.status().isOk(), first.toString());
      assertEquals("h2", first.protocol());
      FallbackFixtures.CallResult result = first;
      int calls = 1;
      while (!"h3".equals(result.protocol())) {
        result = echo(channel);
        assertTrue(result.status().isOk(), "no call fails while the channel moves: " + result);
        calls++;
      }
      assertEquals(quicPort, result.remotePort(), "QUIC goes to the advertised port");
      assertEquals("h3", echo(channel).protocol(), "and stays there");
      System.out.println("calls until QUIC: " + calls);
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      tcpOnly.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      quic.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
