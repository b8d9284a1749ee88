package dev.grpcquic.fallback;

import static dev.grpcquic.fallback.FallbackFixtures.echo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grpcquic.QuicChannelCredentials;
import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A "QUIC preferred" channel on paths where UDP works, is refused, or is black-holed. The connect
 * timeout is set far beyond each test's timeout: a test that passes never waited for it.
 */
@Timeout(60)
class TcpFallbackTest {
  private static final long NEVER_MINUTES = 10;

  @Test
  void udpRefusedFirstCallGoesOverTcpAtOnce() throws Exception {
    TestService service = new TestService();
    Server tcpOnly = FallbackFixtures.nettyTlsServer(0, service);
    int port = FallbackFixtures.port(tcpOnly);
    assumeTrue(FallbackFixtures.udpFree(port), "UDP port " + port + " is taken");
    // A race delay beyond the test's timeout: only QUIC's fast failure (ICMP) can start TCP.
    ManagedChannel channel = FallbackFixtures.fallbackChannel(port)
        .tcpFallbackDelay(NEVER_MINUTES, TimeUnit.MINUTES)
        .connectTimeout(NEVER_MINUTES, TimeUnit.MINUTES)
        .build();
    try {
      FallbackFixtures.CallResult result = echo(channel);
      assertTrue(result.status().isOk(), result.toString());
      assertEquals("h2", result.protocol());
      assertEquals("h2", echo(channel).protocol(), "the next call stays on the connection");
      assertEquals("h2", FallbackFixtures.channelzProtocol(port), "channelz shows it");
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      tcpOnly.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void udpBlackHoledFirstCallGoesOverTcpAfterTheRaceDelay() throws Exception {
    TestService service = new TestService();
    Server tcpOnly = FallbackFixtures.nettyTlsServer(0, service);
    int port = FallbackFixtures.port(tcpOnly);
    assumeTrue(FallbackFixtures.udpFree(port), "UDP port " + port + " is taken");
    ManagedChannel channel = null;
    try (FallbackFixtures.BlackHole hole = new FallbackFixtures.BlackHole(port)) {
      channel = FallbackFixtures.fallbackChannel(port)
          .connectTimeout(NEVER_MINUTES, TimeUnit.MINUTES)
          .build();
      FallbackFixtures.CallResult result = echo(channel);
      assertTrue(result.status().isOk(), result.toString());
      assertEquals("h2", result.protocol());
      assertTrue(hole.dropped.get() > 0, "QUIC was tried first");
    } finally {
      if (channel != null) {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
      tcpOnly.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void quicFineCallsGoOverQuicAndTcpIsNeverOpened() throws Exception {
    TestService service = new TestService();
    FallbackFixtures.TransportCounter counter = new FallbackFixtures.TransportCounter();
    Server dual = dualServer(service, counter);
    int port = FallbackFixtures.port(dual);
    // A long race delay: on a loaded machine a first kwik handshake can take longer than 300 ms.
    ManagedChannel channel = FallbackFixtures.fallbackChannel(port)
        .tcpFallbackDelay(NEVER_MINUTES, TimeUnit.MINUTES)
        .build();
    try {
      for (int i = 0; i < 3; i++) {
        FallbackFixtures.CallResult result = echo(channel);
        assertTrue(result.status().isOk(), result.toString());
        assertEquals("h3", result.protocol());
      }
      assertEquals(0, counter.tcpOpened.get());
      assertEquals(1, counter.quicOpened.get());
      assertEquals("h3", FallbackFixtures.channelzProtocol(port), "channelz shows it");
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      dual.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /**
   * TCP starts with QUIC (no delay): whichever wins, the channel ends on QUIC (the server
   * advertises it) and no TCP connection stays open.
   */
  @Test
  void bothStartedTheChannelEndsOnQuicWithNoTcpConnectionLeft() throws Exception {
    TestService service = new TestService();
    FallbackFixtures.TransportCounter counter = new FallbackFixtures.TransportCounter();
    Server dual = dualServer(service, counter);
    int port = FallbackFixtures.port(dual);
    ManagedChannel channel = FallbackFixtures.fallbackChannel(port)
        .tcpFallbackDelay(0, TimeUnit.MILLISECONDS)
        .build();
    try {
      FallbackFixtures.CallResult result = echo(channel);
      assertTrue(result.status().isOk(), result.toString());
      int calls = 1;
      while (!"h3".equals(result.protocol())) {
        result = echo(channel);
        assertTrue(result.status().isOk(), result.toString());
        calls++;
      }
      counter.awaitNoTcp(); // the TCP loser, or the TCP connection left for QUIC, closes
      assertTrue(echo(channel).status().isOk());
      assertEquals(0, counter.tcpLive.get());
      System.out.println("calls until QUIC: " + calls + ", TCP connections opened: "
          + counter.tcpOpened.get());
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      dual.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void credentialsFormFallsBackToo() throws Exception {
    TestService service = new TestService();
    Server tcpOnly = FallbackFixtures.nettyTlsServer(0, service);
    int port = FallbackFixtures.port(tcpOnly);
    assumeTrue(FallbackFixtures.udpFree(port), "UDP port " + port + " is taken");
    ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + port,
            QuicChannelCredentials.create(TestTls.get().trustManager()).withTcpFallback())
        .overrideAuthority("localhost")
        .build();
    try {
      FallbackFixtures.CallResult result = echo(channel);
      assertTrue(result.status().isOk(), result.toString());
      assertEquals("h2", result.protocol());
    } finally {
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      tcpOnly.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  static Server dualServer(TestService service, FallbackFixtures.TransportCounter counter)
      throws Exception {
    TestTls tls = TestTls.get();
    return QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .keyStore(tls.serverKeyStore(), tls.keyAlias(), tls.keyPassword())
        .addService(service.definition())
        .addTransportFilter(counter)
        .alsoServeTcp(true)
        .build()
        .start();
  }
}
