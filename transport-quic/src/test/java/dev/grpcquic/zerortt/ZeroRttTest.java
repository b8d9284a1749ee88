package dev.grpcquic.zerortt;

import static dev.grpcquic.zerortt.ZeroRttFixtures.IDEMPOTENT_ECHO;
import static dev.grpcquic.zerortt.ZeroRttFixtures.callOnNewChannel;
import static dev.grpcquic.zerortt.ZeroRttFixtures.earnTicket;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.grpcquic.QuicCallOptions;
import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicEngine.Feature;
import dev.grpcquic.stats.QuicEarlyDataStats;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestEngine;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.UdpRelay;
import dev.grpcquic.testing.CountingTicketStore;
import dev.grpcquic.zerortt.ZeroRttFixtures.CountingTrust;
import io.grpc.CallOptions;
import java.net.InetSocketAddress;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Session resumption and 0-RTT between a grpc-quic client and server on real connections of the
 * test engine ({@link TestEngine}): a first connection earns a session ticket, the next one
 * resumes with it and sends its first call as early data when (and only when) the call is safe
 * to replay.
 */
@Timeout(60)
class ZeroRttTest {

  private QuicTestServer server;
  private QuicTestServer secondServer;

  @AfterEach
  void tearDown() throws Exception {
    if (server != null) {
      server.close();
    }
    if (secondServer != null) {
      secondServer.close();
    }
  }

  private static QuicEarlyDataStats callOnNewChannel(QuicTestServer target,
      CountingTicketStore store, io.grpc.MethodDescriptor<byte[], byte[]> method,
      CallOptions options) throws Exception {
    return ZeroRttFixtures.callOnNewChannel(target::channelBuilder, store, method, options, true);
  }

  private static void assumeEarlyData() {
    assumeTrue(TestEngine.get().supports(Feature.EARLY_DATA),
        TestEngine.name() + " has no 0-RTT");
  }

  @Test
  void resumedConnectionsSkipTheServerCertificate() throws Exception {
    server = new QuicTestServer();
    CountingTicketStore store = new CountingTicketStore();
    CountingTrust trust = new CountingTrust();
    Supplier<QuicChannelBuilder> builder = () -> server.channelBuilder().trustManager(trust);
    earnTicket(builder, store);
    assertEquals(1, trust.serverChecks.get(), "the first connection checks the certificate");

    // A second channel sharing the store, then a third with the ticket the second one earned:
    // each resumes (no certificate in the handshake), with and without early data.
    QuicEarlyDataStats second = ZeroRttFixtures.callOnNewChannel(builder, store, TestService.ECHO,
        CallOptions.DEFAULT, true);
    ZeroRttFixtures.callOnNewChannel(builder, store, IDEMPOTENT_ECHO, CallOptions.DEFAULT, false);

    assertEquals(1, trust.serverChecks.get(), "resumed handshakes carry no certificate");
    assertEquals(QuicEarlyDataStats.Outcome.NOT_ATTEMPTED, second.outcome(), second.toString());
  }

  @Test
  void idempotentCallOnResumedConnectionGoesAsEarlyData() throws Exception {
    assumeEarlyData();
    server = new QuicTestServer();
    CountingTicketStore store = new CountingTicketStore();
    earnTicket(server::channelBuilder, store);

    QuicEarlyDataStats stats =
        callOnNewChannel(server, store, IDEMPOTENT_ECHO, CallOptions.DEFAULT);

    assertEquals(QuicEarlyDataStats.Outcome.ACCEPTED, stats.outcome(), stats.toString());
    assertEquals(1, stats.streams(), stats.toString());
    assertTrue(stats.zeroRttPackets() > 0, stats.toString());
    // The resumed connection earned a ticket in turn: the next one resumes too.
    QuicEarlyDataStats again =
        callOnNewChannel(server, store, IDEMPOTENT_ECHO, CallOptions.DEFAULT);
    assertEquals(QuicEarlyDataStats.Outcome.ACCEPTED, again.outcome(), again.toString());
  }

  @Test
  void earlyDataTravelsIn0RttPacketsOnlyForReplaySafeCalls() throws Exception {
    assumeEarlyData();
    server = new QuicTestServer();
    try (UdpRelay relay = new UdpRelay(new InetSocketAddress("127.0.0.1", server.port()), 1)) {
      Supplier<QuicChannelBuilder> viaRelay = () -> QuicTestServer.channelBuilder(relay.port());
      CountingTicketStore store = new CountingTicketStore();
      earnTicket(viaRelay, store);
      assertEquals(0, relay.zeroRttFromClients.get(), "a full handshake sends no 0-RTT packet");

      QuicEarlyDataStats plain = ZeroRttFixtures.callOnNewChannel(viaRelay, store, TestService.ECHO,
          CallOptions.DEFAULT, true);
      assertEquals(0, relay.zeroRttFromClients.get(), plain.toString());

      QuicEarlyDataStats early = ZeroRttFixtures.callOnNewChannel(viaRelay, store, IDEMPOTENT_ECHO,
          CallOptions.DEFAULT, true);
      assertEquals(QuicEarlyDataStats.Outcome.ACCEPTED, early.outcome(), early.toString());
      assertTrue(relay.zeroRttFromClients.get() > 0, "0-RTT packets on the wire: " + early);
      assertTrue(early.zeroRttPackets() <= relay.zeroRttFromClients.get(),
          "the engine counts no more 0-RTT packets than crossed the relay: " + early + ", relay "
              + relay.zeroRttFromClients.get());
    }
  }

  @Test
  void nonIdempotentCallNeverGoesEarly() throws Exception {
    assumeEarlyData();
    server = new QuicTestServer();
    CountingTicketStore store = new CountingTicketStore();
    earnTicket(server::channelBuilder, store);

    QuicEarlyDataStats stats =
        callOnNewChannel(server, store, TestService.ECHO, CallOptions.DEFAULT);

    assertEquals(QuicEarlyDataStats.Outcome.NOT_ATTEMPTED, stats.outcome(), stats.toString());
    assertEquals(0, stats.streams());
    assertEquals(0, stats.zeroRttPackets(), "no 0-RTT packet left the client");
  }

  @Test
  void callOptionLetsANonIdempotentCallGoEarly() throws Exception {
    assumeEarlyData();
    server = new QuicTestServer();
    CountingTicketStore store = new CountingTicketStore();
    earnTicket(server::channelBuilder, store);

    QuicEarlyDataStats stats = callOnNewChannel(server, store, TestService.ECHO,
        CallOptions.DEFAULT.withOption(QuicCallOptions.EARLY_DATA, true));

    assertEquals(QuicEarlyDataStats.Outcome.ACCEPTED, stats.outcome(), stats.toString());
    assertEquals(1, stats.streams());
  }

  /**
   * A ticket of a server that then stopped, and a new server (new ticket keys) under the same
   * authority in {@link #secondServer}: the ticket is useless to it.
   */
  private CountingTicketStore ticketOfARestartedServer() throws Exception {
    server = new QuicTestServer();
    CountingTicketStore store = new CountingTicketStore();
    earnTicket(server::channelBuilder, store);
    server.close();
    server = null;
    secondServer = new QuicTestServer();
    return store;
  }

  @Test
  void restartedServerRejectsEarlyDataAndTheCallStillSucceeds() throws Exception {
    assumeEarlyData();
    CountingTicketStore store = ticketOfARestartedServer();

    QuicEarlyDataStats stats = callOnNewChannel(secondServer, store, IDEMPOTENT_ECHO,
        CallOptions.DEFAULT);

    assertEquals(QuicEarlyDataStats.Outcome.REJECTED, stats.outcome(), stats.toString());
    assertEquals(1, stats.streams());
    assertTrue(stats.zeroRttPackets() > 0, stats.toString());
  }

  @Test
  void rejectedEarlyDataOfSeveralPacketsIsResentWhole() throws Exception {
    assumeEarlyData();
    CountingTicketStore store = ticketOfARestartedServer();
    byte[] request = ZeroRttFixtures.largeRequest(6000);

    // Echoed whole: every byte of the rejected 0-RTT packets was sent again after the handshake.
    QuicEarlyDataStats rejected = ZeroRttFixtures.callOnNewChannel(secondServer::channelBuilder,
        store, IDEMPOTENT_ECHO, CallOptions.DEFAULT, true, request);
    assertEquals(QuicEarlyDataStats.Outcome.REJECTED, rejected.outcome(), rejected.toString());
    assertTrue(rejected.zeroRttPackets() > 1, rejected.toString());

    // The same request with the ticket that connection earned: accepted this time.
    QuicEarlyDataStats accepted = ZeroRttFixtures.callOnNewChannel(secondServer::channelBuilder,
        store, IDEMPOTENT_ECHO, CallOptions.DEFAULT, true, request);
    assertEquals(QuicEarlyDataStats.Outcome.ACCEPTED, accepted.outcome(), accepted.toString());
    assertTrue(accepted.zeroRttPackets() > 1, accepted.toString());
  }

  @Test
  void zeroRttOffResumesWithoutEarlyData() throws Exception {
    server = new QuicTestServer();
    CountingTicketStore store = new CountingTicketStore();
    earnTicket(server::channelBuilder, store);

    QuicEarlyDataStats stats = ZeroRttFixtures.callOnNewChannel(server::channelBuilder, store,
        IDEMPOTENT_ECHO, CallOptions.DEFAULT, false);

    assertEquals(QuicEarlyDataStats.Outcome.NOT_ATTEMPTED, stats.outcome(), stats.toString());
    assertEquals(0, stats.zeroRttPackets());
  }
}
