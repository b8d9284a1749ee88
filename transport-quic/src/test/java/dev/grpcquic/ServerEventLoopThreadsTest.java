package dev.grpcquic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.testing.PingPongCall;
import dev.grpcquic.testing.QuicTestServer;
import dev.grpcquic.testing.TestService;
import dev.grpcquic.testing.TestTls;
import dev.grpcquic.testing.UdpRelay;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ServerTransportFilter;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code eventLoopThreads}: a quiche server on several UDP sockets of one port (SO_REUSEPORT),
 * each on its own event-loop thread, with connections routed to their socket by connection ID.
 * Which thread serves a connection is seen through a transport filter: grpc-core calls
 * {@code transportReady} while the transport starts, which the quiche engine does on the
 * connection's event loop when the handshake completes.
 */
@Timeout(120)
class ServerEventLoopThreadsTest {
  private static final String SERVER_LOOP = "grpc-quic-quiche-server";
  /** With two sockets, all these clients land on one of them with probability 2^-23. */
  private static final int CLIENTS = 24;

  /** Records the thread each connection starts on, and counts connections that ended. */
  private static final class LoopRecorder extends ServerTransportFilter {
    final Set<String> threads = ConcurrentHashMap.newKeySet();
    final AtomicInteger ready = new AtomicInteger();
    final AtomicInteger terminated = new AtomicInteger();

    @Override
    public Attributes transportReady(Attributes attributes) {
      threads.add(Thread.currentThread().getName());
      ready.incrementAndGet();
      return attributes;
    }

    @Override
    public void transportTerminated(Attributes attributes) {
      terminated.incrementAndGet();
    }
  }

  private static QuicTestServer twoThreadServer(LoopRecorder recorder) throws Exception {
    return new QuicTestServer(b -> b.engine(QuicEngines.quiche()).eventLoopThreads(2)
        .addTransportFilter(recorder));
  }

  private static void echo(ManagedChannel channel, int times) {
    for (int i = 0; i < times; i++) {
      byte[] reply = ClientCalls.blockingUnaryCall(channel, TestService.ECHO,
          CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), new byte[] {(byte) i});
      assertEquals((byte) i, reply[0]);
    }
  }

  @Test
  void manyConnectionsSpreadOverBothThreadsAndAllCompleteTheirCalls() throws Exception {
    LoopRecorder recorder = new LoopRecorder();
    try (QuicTestServer server = twoThreadServer(recorder)) {
      // Each quiche channel has a UDP socket (a source port) of its own: the kernel spreads
      // them over the two sockets by their address.
      List<ManagedChannel> channels = new ArrayList<>();
      for (int i = 0; i < CLIENTS; i++) {
        channels.add(server.track(QuicTestServer.channelBuilder(server.port())
            .engine(QuicEngines.quiche()).build()));
      }
      for (ManagedChannel channel : channels) {
        echo(channel, 3);
      }
      assertEquals(CLIENTS, recorder.ready.get());
      assertEquals(2, recorder.threads.size(), "threads: " + recorder.threads);
      for (String thread : recorder.threads) {
        assertTrue(thread.startsWith(SERVER_LOOP), thread);
      }
      // A second round on the same connections: nothing was re-established.
      for (ManagedChannel channel : channels) {
        echo(channel, 3);
      }
      assertEquals(CLIENTS, recorder.ready.get());
      assertEquals(0, recorder.terminated.get());
      // Two sockets on the one port the server reports (IPv4 or dual-stack IPv6 sockets).
      String port = String.format(Locale.ROOT, ":%04X", server.port());
      long sockets = 0;
      for (String table : List.of("/proc/net/udp", "/proc/net/udp6")) {
        Path path = Path.of(table);
        if (Files.isReadable(path)) {
          sockets += Files.readAllLines(path).stream()
              .filter(line -> line.trim().split("\\s+")[1].endsWith(port)).count();
        }
      }
      if (Files.isReadable(Path.of("/proc/net/udp"))) {
        assertEquals(2, sockets, "sockets on port " + server.port());
      }
    }
  }

  /**
   * Clients whose address changes in the middle of a call (a NAT rebinding): the kernel now picks
   * a socket by the new address, for about half of them the other one, and the dispatcher hands
   * their datagrams to the connection's own socket by connection ID. The calls go on, no
   * connection is re-established. (Which clients changed socket is not observable from here;
   * with eight, all stay with probability 2^-8.) One rebinding only: a second one stalls a quiche
   * server's connection with one socket as well (its peer has no spare connection ID left).
   */
  @Test
  void clientsWhoseAddressChangesKeepTheirConnections() throws Exception {
    LoopRecorder recorder = new LoopRecorder();
    try (QuicTestServer server = twoThreadServer(recorder);
        UdpRelay relay = new UdpRelay(new InetSocketAddress("127.0.0.1", server.port()), 7)) {
      List<ManagedChannel> channels = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        channels.add(server.track(QuicChannelBuilder.forAddress("127.0.0.1", relay.port())
            .overrideAuthority("localhost")
            .trustManager(TestTls.get().trustManager())
            .engine(QuicEngines.quiche())
            .build()));
      }
      List<PingPongCall> calls = new ArrayList<>();
      for (ManagedChannel channel : channels) {
        PingPongCall call = new PingPongCall(channel,
            CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
        call.roundTrip(0);
        calls.add(call);
      }
      relay.rebind();
      for (PingPongCall call : calls) {
        call.roundTrip(1);
        call.roundTrip(2);
      }
      for (PingPongCall call : calls) {
        call.finishOk();
      }
      assertEquals(8, recorder.ready.get(), "connections established");
      assertEquals(0, recorder.terminated.get(), "connections ended");
    }
  }

  @Test
  void theServersThreadsEndWithIt() throws Exception {
    LoopRecorder recorder = new LoopRecorder();
    QuicTestServer server = twoThreadServer(recorder);
    try {
      echo(server.channel(), 1);
    } finally {
      server.close();
    }
    assertTrue(server.server().awaitTermination(30, TimeUnit.SECONDS));
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (thread.getName().startsWith(SERVER_LOOP)) {
        thread.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(thread.isAlive(), thread.getName() + " outlived the server");
      }
    }
  }

  @Test
  void kwikRefusesEventLoopThreads() {
    TestTls tls = TestTls.get();
    QuicServerBuilder builder = QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .keyStore(tls.serverKeyStore(), tls.keyAlias(), tls.keyPassword())
        .engine(QuicEngines.kwik())
        .eventLoopThreads(2)
        .addService(new TestService().definition());
    IllegalStateException e = assertThrows(IllegalStateException.class, builder::build);
    assertTrue(e.getMessage().contains("eventLoopThreads"), e.getMessage());
  }

  @Test
  void aThreadCountBelowOneIsRefused() {
    assertThrows(IllegalArgumentException.class,
        () -> QuicServerBuilder.forPort(0).eventLoopThreads(0));
  }

  @Test
  void oneThreadIsOneSocketOnAThreadOfItsOwn() throws Exception {
    LoopRecorder recorder = new LoopRecorder();
    try (QuicTestServer server = new QuicTestServer(b -> b.engine(QuicEngines.quiche())
        .eventLoopThreads(1).addTransportFilter(recorder))) {
      echo(server.channel(), 2);
      assertEquals(1, recorder.threads.size());
      assertTrue(recorder.threads.iterator().next().startsWith(SERVER_LOOP), recorder.threads
          .toString());
    }
  }
}
