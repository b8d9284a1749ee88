package dev.grpcquic.engine.kwik;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.ConnectionStats;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class KwikEngineBehaviourTest {

  /** Polls a condition until a deadline (the engine has no event for these states). */
  private static boolean eventually(BooleanSupplier condition, long millis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
    }
    return condition.getAsBoolean();
  }

  @Test
  @Timeout(60)
  void flowControlFollowsReadCredit() throws Exception {
    long window = 64 * 1024;
    long size = 4L << 20;
    BlockingQueue<BulkPeer> serverPeers = new LinkedBlockingQueue<>();
    try (KwikServerEndpoint server = KwikServerEndpoint.start(KwikTestSupport.serverOptions(),
        KwikTestSupport.acceptor(s -> {
          BulkPeer peer = new BulkPeer(true, size).bind(s);
          serverPeers.add(peer);
          return peer;
        }))) {
      QuicConnection connection = new KwikClientEngine().connect(
          KwikTestSupport.clientOptions(server.localAddress(), Duration.ofSeconds(30), window),
          new KwikTestSupport.ClientHandler()).get(15, TimeUnit.SECONDS);
      KwikTestSupport.Recorder client = new KwikTestSupport.Recorder(null, false);
      QuicStream stream = connection.openStream(true, client).get(10, TimeUnit.SECONDS);
      stream.write(ByteBuffer.wrap(new byte[] {'D'}), true); // no request(): credit stays 0
      BulkPeer serverPeer = serverPeers.poll(10, TimeUnit.SECONDS);

      // kwik accepts the stream window plus its 50 KiB send buffer (plus one write chunk), no more.
      long bound = window + 50 * 1024 + 16 * 1024;
      assertTrue(eventually(() -> serverPeer.written.get() >= window, 10_000), "server wrote the window");
      assertFalse(eventually(() -> serverPeer.written.get() > bound, 1_000), "writes stopped");
      assertTrue(serverPeer.stream.queuedBytes() > 0, "queued bytes grow while blocked");
      assertEquals(0, client.received.get());

      stream.request((int) size + 1); // one more byte of credit to see the FIN
      try {
        client.endOfStream.get(30, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError("stuck: client received " + client.received.get() + ", server written "
            + serverPeer.written.get() + ", server queued " + serverPeer.stream.queuedBytes()
            + ", nudges " + SendStallGuard.NUDGES.get(), e);
      }
      assertEquals(size, client.received.get());
      assertEquals(size, serverPeer.written.get());
      assertEquals(0, serverPeer.stream.queuedBytes());
      connection.close(0x100, "");
    }
  }

  @Test
  @Timeout(60)
  void resetAndStopSendingReachThePeer() throws Exception {
    BlockingQueue<BulkPeer> serverPeers = new LinkedBlockingQueue<>();
    try (KwikServerEndpoint server = KwikServerEndpoint.start(KwikTestSupport.serverOptions(),
        KwikTestSupport.acceptor(s -> {
          BulkPeer peer = new BulkPeer(true, 8L << 20).bind(s);
          serverPeers.add(peer);
          return peer;
        }))) {
      QuicConnection connection = new KwikClientEngine().connect(
          KwikTestSupport.clientOptions(server.localAddress(), Duration.ofSeconds(30), 64 * 1024),
          new KwikTestSupport.ClientHandler()).get(15, TimeUnit.SECONDS);

      // reset: the server reading our stream sees onReset.
      KwikTestSupport.Recorder first = new KwikTestSupport.Recorder(null, false);
      QuicStream resetStream = connection.openStream(true, first).get(10, TimeUnit.SECONDS);
      resetStream.write(ByteBuffer.wrap(new byte[100]), false);
      BulkPeer firstServer = serverPeers.poll(10, TimeUnit.SECONDS);
      assertTrue(eventually(() -> firstServer.received.get() == 100, 10_000));
      resetStream.reset(0x10c);
      // kwik hides the code, and a server connection has no logger of its own to learn it from.
      assertEquals(-1L, firstServer.reset.get(10, TimeUnit.SECONDS));

      // stopSending: the server, blocked writing a download, sees onStopSending.
      KwikTestSupport.Recorder second = new KwikTestSupport.Recorder(null, false);
      QuicStream stopped = connection.openStream(true, second).get(10, TimeUnit.SECONDS);
      stopped.write(ByteBuffer.wrap(new byte[] {'D'}), true);
      BulkPeer secondServer = serverPeers.poll(10, TimeUnit.SECONDS);
      assertTrue(eventually(() -> secondServer.written.get() > 0, 10_000));
      stopped.stopSending(0x10c);
      assertEquals(-1L, secondServer.stopSending.get(10, TimeUnit.SECONDS));
      assertFalse(secondServer.reset.isDone(), "the server's receiving side goes on");
      assertFalse(second.endOfStream.isDone());
      assertEquals(0, secondServer.overlaps.get());
      connection.close(0x100, "");
    }
  }

  /**
   * The client learns the code of a server's RESET_STREAM (kwik drops it; the engine reads it off
   * the received packet): H3_REQUEST_REJECTED is what lets a refused call be retried.
   */
  @Test
  @Timeout(60)
  void aServerResetTellsTheClientItsCode() throws Exception {
    try (KwikServerEndpoint server = KwikServerEndpoint.start(KwikTestSupport.serverOptions(),
        KwikTestSupport.acceptor(s -> {
          s.request(1024);
          return new KwikTestSupport.Recorder(s, false) {
            @Override
            public void onData(ByteBuffer data) {
              super.onData(data);
              s.reset(data.get(data.position()) == 'R' ? 0x10b : 0x10c);
            }
          };
        }))) {
      QuicConnection connection = KwikTestSupport.connect(server.localAddress(),
          new KwikTestSupport.ClientHandler());
      for (char kind : new char[] {'R', 'C', 'R'}) {
        KwikTestSupport.Recorder client = new KwikTestSupport.Recorder(null, false);
        QuicStream stream = connection.openStream(true, client).get(10, TimeUnit.SECONDS);
        client.stream = stream;
        stream.request(1024);
        stream.write(ByteBuffer.wrap(new byte[] {(byte) kind}), false);
        assertEquals(kind == 'R' ? 0x10bL : 0x10cL, client.reset.get(10, TimeUnit.SECONDS));
        stream.reset(0x10c);
      }
      connection.close(0x100, "");
    }
  }

  /**
   * A stream reset right after its first write (a call cancelled as it starts): kwik's server
   * drops a RESET_STREAM that comes before the stream's first frame, so the engine holds the reset
   * back until that frame has left. Every stream must reach the server and end there as reset;
   * with a limit of 4 streams, a lost one would also stall the streams after it.
   */
  @Test
  @Timeout(60)
  void aStreamResetAsItOpensReachesTheServerAsReset() throws Exception {
    int streams = 200;
    java.util.concurrent.CountDownLatch resets = new java.util.concurrent.CountDownLatch(streams);
    try (KwikServerEndpoint server = KwikServerEndpoint.start(
        KwikTestSupport.serverOptions(4, Duration.ofSeconds(30), 64 * 1024),
        KwikTestSupport.acceptor(s -> {
          s.request(1 << 16);
          return new KwikTestSupport.Recorder(s, true) {
            @Override
            public void onReset(long code) {
              super.onReset(code);
              resets.countDown();
            }
          };
        }))) {
      QuicConnection connection = KwikTestSupport.connect(server.localAddress(),
          new KwikTestSupport.ClientHandler());
      for (int i = 0; i < streams; i++) {
        QuicStream stream = connection.openStream(true, new KwikTestSupport.Recorder(null, false))
            .get(10, TimeUnit.SECONDS);
        stream.write(ByteBuffer.wrap(new byte[100]), false);
        stream.reset(0x10c);
      }
      assertTrue(resets.await(20, TimeUnit.SECONDS),
          resets.getCount() + " of " + streams + " streams never ended as reset at the server");
      connection.close(0x100, "");
    }
  }

  /**
   * A stream reset while its writer (or reader) is busy is let go once they stop: a stream kept
   * by the connection after it ended would, on a client, keep the quiet-path probe pinging and
   * the connection out of idle for good.
   */
  @Test
  @Timeout(60)
  void streamsResetWhileBusyAreLetGo() throws Exception {
    try (KwikServerEndpoint server = KwikServerEndpoint.start(KwikTestSupport.serverOptions(),
        KwikTestSupport.acceptor(s -> {
          s.request(Integer.MAX_VALUE);
          s.write(ByteBuffer.wrap(new byte[256 * 1024]), false);
          return new KwikTestSupport.Recorder(s, true);
        }))) {
      KwikTestSupport.ClientHandler handler = new KwikTestSupport.ClientHandler();
      QuicConnection connection = KwikTestSupport.connect(server.localAddress(), handler);
      for (int i = 0; i < 100; i++) {
        KwikTestSupport.Recorder reader = new KwikTestSupport.Recorder(null, true);
        QuicStream stream;
        try {
          stream = connection.openStream(true, reader).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
          ConnectionCloseInfo closed = null;
          try {
            closed = handler.closed.get(5, TimeUnit.SECONDS);
          } catch (java.util.concurrent.TimeoutException notClosed) {
          }
          throw new AssertionError("stream " + i + ": connection " + closed, e);
        }
        reader.stream = stream;
        stream.request(Integer.MAX_VALUE);
        for (int j = 0; j < 32; j++) {
          stream.write(ByteBuffer.wrap(new byte[16 * 1024]), false);
        }
        long queued = stream.queuedBytes();
        assertTrue(eventually(() -> stream.queuedBytes() < queued, 10_000), "writer started");
        stream.reset(0x10c);
      }
      KwikConnection client = (KwikConnection) connection;
      assertTrue(eventually(() -> client.openStreamCount() == 0, 20_000),
          client.openStreamCount() + " streams still held: " + client.describeRequestStreams());
      connection.close(0x100, "");
    }
  }

  /**
   * Streams the server resets while the client reads them all end as reset at the client (kwik
   * can miss waking a reader for a reset; see ReadWakeupWatch) and are let go.
   */
  @Test
  @Timeout(60)
  void streamsTheServerResetsWhileTheClientReadsEndAsReset() throws Exception {
    try (KwikServerEndpoint server = KwikServerEndpoint.start(KwikTestSupport.serverOptions(),
        KwikTestSupport.acceptor(s -> {
          s.write(ByteBuffer.wrap(new byte[64 * 1024]), false);
          s.reset(0x10c);
          return new KwikTestSupport.Recorder(s, true);
        }))) {
      QuicConnection connection = KwikTestSupport.connect(server.localAddress(),
          new KwikTestSupport.ClientHandler());
      List<KwikTestSupport.Recorder> readers = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        KwikTestSupport.Recorder reader = new KwikTestSupport.Recorder(null, true);
        QuicStream stream = connection.openStream(true, reader).get(10, TimeUnit.SECONDS);
        reader.stream = stream;
        stream.request(Integer.MAX_VALUE);
        stream.write(ByteBuffer.wrap(new byte[] {1}), true);
        readers.add(reader);
      }
      KwikConnection client = (KwikConnection) connection;
      for (KwikTestSupport.Recorder reader : readers) {
        try {
          reader.reset.get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          throw new AssertionError("a reset never reached the reader; held: "
              + client.describeRequestStreams(), e);
        }
      }
      assertTrue(eventually(() -> client.openStreamCount() == 0, 20_000),
          client.openStreamCount() + " streams still held: " + client.describeRequestStreams());
      connection.close(0x100, "");
    }
  }

  /**
   * Bytes of a stream we stopped reading still count against the connection's receive window:
   * the peer counts them as sent. Streams abandoned full must not use the window up.
   */
  @Test
  @Timeout(60)
  void abandonedStreamsDoNotUseUpTheConnectionWindow() throws Exception {
    int streamWindow = 64 * 1024;
    try (KwikServerEndpoint server = KwikServerEndpoint.start(KwikTestSupport.serverOptions(),
        KwikTestSupport.acceptor(s -> {
          s.request(1 << 16);
          s.write(ByteBuffer.wrap(new byte[streamWindow]), true);
          return new KwikTestSupport.Recorder(s, true);
        }))) {
      QuicConnection connection = new KwikClientEngine().connect(
          KwikTestSupport.clientOptions(server.localAddress(), Duration.ofSeconds(30), streamWindow),
          new KwikTestSupport.ClientHandler()).get(15, TimeUnit.SECONDS);
      // The connection window is 10 stream windows: 20 streams abandoned full would use it up.
      for (int i = 0; i < 20; i++) {
        QuicStream stream = connection.openStream(true, new KwikTestSupport.Recorder(null, false))
            .get(10, TimeUnit.SECONDS);
        stream.write(ByteBuffer.wrap(new byte[] {1}), true);
        KwikStream kwikStream = (KwikStream) stream;
        int n = i;
        assertTrue(eventually(() -> kwikStream.unreadBytes() == streamWindow, 10_000),
            () -> "stream " + n + " got " + kwikStream.unreadBytes() + " bytes");
        stream.stopSending(0x10c);
      }
      KwikTestSupport.Recorder reader = new KwikTestSupport.Recorder(null, true);
      QuicStream last = connection.openStream(true, reader).get(10, TimeUnit.SECONDS);
      reader.stream = last;
      last.request(Integer.MAX_VALUE);
      last.write(ByteBuffer.wrap(new byte[] {1}), true);
      reader.endOfStream.get(10, TimeUnit.SECONDS);
      assertEquals(streamWindow, reader.received.get());
      connection.close(0x100, "");
    }
  }

  @Test
  @Timeout(60)
  void peerCloseWithApplicationCodeReachesOnClosed() throws Exception {
    CompletableFuture<QuicConnection> serverSide = new CompletableFuture<>();
    CompletableFuture<ConnectionCloseInfo> serverClosed = new CompletableFuture<>();
    try (KwikServerEndpoint server = KwikServerEndpoint.start(KwikTestSupport.serverOptions(),
        c -> {
          serverSide.complete(c);
          return KwikTestSupport.acceptor(s -> new KwikTestSupport.Recorder(s, true), serverClosed)
              .onConnection(c);
        })) {
      KwikTestSupport.ClientHandler clientHandler = new KwikTestSupport.ClientHandler();
      QuicConnection connection = KwikTestSupport.connect(server.localAddress(), clientHandler);
      KwikTestSupport.Recorder open = new KwikTestSupport.Recorder(null, false);
      QuicStream stream = connection.openStream(true, open).get(10, TimeUnit.SECONDS);
      stream.request(1000);
      stream.write(ByteBuffer.wrap(new byte[] {1}), false);

      serverSide.get(10, TimeUnit.SECONDS).close(0x10b, "bye");
      ConnectionCloseInfo info = clientHandler.closed.get(10, TimeUnit.SECONDS);
      assertEquals(ConnectionCloseInfo.Reason.CLOSED, info.reason());
      assertTrue(info.byPeer());
      assertEquals(0x10b, info.applicationErrorCode());
      assertEquals(info, open.connectionClosed.get(10, TimeUnit.SECONDS));
      assertFalse(connection.isOpen());
      ConnectionCloseInfo local = serverClosed.get(10, TimeUnit.SECONDS);
      assertFalse(local.byPeer());
      assertEquals(0x10b, local.applicationErrorCode());
      assertTrue(connection.openStream(true, open).isCompletedExceptionally());
    }
  }

  @Test
  @Timeout(60)
  void idleTimeoutClosesWithIdleTimeout() throws Exception {
    try (KwikServerEndpoint server = KwikServerEndpoint.start(
        KwikTestSupport.serverOptions(100, Duration.ofSeconds(1), 1 << 20),
        KwikTestSupport.acceptor(KwikTestSupport::echo))) {
      KwikTestSupport.ClientHandler clientHandler = new KwikTestSupport.ClientHandler();
      QuicConnection connection = new KwikClientEngine().connect(
          KwikTestSupport.clientOptions(server.localAddress(), Duration.ofSeconds(1), 1 << 20),
          clientHandler).get(15, TimeUnit.SECONDS);
      ConnectionCloseInfo info = clientHandler.closed.get(20, TimeUnit.SECONDS);
      // kwik's idle timer calls the end "connection lost" when the last thing it did was to send
      // (IdleTimer.isTailLoss), for instance an acknowledgement of the server's last packet; which
      // of the two comes last is a race, so both are an idle end.
      assertTrue(info.reason() == ConnectionCloseInfo.Reason.IDLE_TIMEOUT
          || info.reason() == ConnectionCloseInfo.Reason.LOST, info.toString());
      assertFalse(info.byPeer());
      assertFalse(connection.isOpen());
    }
  }

  @Test
  @Timeout(120)
  void thousandStreamsAgainstALimitOfHundred() throws Exception {
    try (KwikServerEndpoint server = KwikServerEndpoint.start(
        KwikTestSupport.serverOptions(100, Duration.ofSeconds(30), 256 * 1024),
        KwikTestSupport.acceptor(KwikTestSupport::echo))) {
      QuicConnection connection =
          KwikTestSupport.connect(server.localAddress(), new KwikTestSupport.ClientHandler());
      // Concurrently: 1000 opens queue up behind MAX_STREAMS = 100.
      List<CompletableFuture<Void>> done = new ArrayList<>();
      List<KwikTestSupport.Recorder> recorders = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        KwikTestSupport.Recorder recorder = new KwikTestSupport.Recorder(null, false);
        recorders.add(recorder);
        byte[] message = ("stream " + i).getBytes();
        done.add(connection.openStream(true, recorder).thenCompose(s -> {
          s.request(1024);
          s.write(ByteBuffer.wrap(message), true);
          return recorder.endOfStream;
        }));
      }
      CompletableFuture.allOf(done.toArray(new CompletableFuture[0])).get(90, TimeUnit.SECONDS);
      for (int i = 0; i < 1000; i++) {
        assertArrayEquals(("stream " + i).getBytes(), recorders.get(i).bytes());
      }
      // Sequentially: each stream must give its slot back once both sides finished.
      for (int i = 0; i < 300; i++) {
        KwikTestSupport.Recorder recorder = new KwikTestSupport.Recorder(null, false);
        QuicStream s = connection.openStream(true, recorder).get(10, TimeUnit.SECONDS);
        s.request(16);
        s.write(ByteBuffer.wrap(new byte[] {(byte) i}), true);
        recorder.endOfStream.get(10, TimeUnit.SECONDS);
      }
      ConnectionStats stats = connection.stats();
      assertTrue(stats.packetsSent() > 100, "packets " + stats);
      assertTrue(stats.bytesSent() > 0 && stats.datagramsSent() > 0, stats.toString());
      assertTrue(stats.smoothedRttMillis() >= 0 && stats.latestRttMillis() >= 0, stats.toString());
      connection.close(0x100, "");
    }
  }

  @Test
  @Timeout(60)
  void statsReportRttAndPackets() throws Exception {
    try (KwikServerEndpoint server = KwikServerEndpoint.start(KwikTestSupport.serverOptions(),
        KwikTestSupport.acceptor(KwikTestSupport::echo))) {
      QuicConnection connection =
          KwikTestSupport.connect(server.localAddress(), new KwikTestSupport.ClientHandler());
      KwikTestSupport.Recorder recorder = new KwikTestSupport.Recorder(null, false);
      QuicStream s = connection.openStream(true, recorder).get(10, TimeUnit.SECONDS);
      s.request(100_000);
      s.write(ByteBuffer.wrap(new byte[50_000]), true);
      recorder.endOfStream.get(10, TimeUnit.SECONDS);
      ConnectionStats stats = connection.stats();
      assertTrue(stats.packetsSent() > 10, stats.toString());
      assertTrue(stats.datagramsSent() > 0 && stats.bytesSent() > 50_000, stats.toString());
      // Loopback RTTs are below a millisecond; kwik reports whole milliseconds, so >= 0 and sane.
      assertTrue(stats.smoothedRttMillis() >= 0 && stats.smoothedRttMillis() < 1000, stats.toString());
      assertTrue(stats.rttVarianceMillis() >= 0, stats.toString());
      assertEquals(server.localAddress().getPort(), connection.remoteAddress().getPort());
      connection.close(0x100, "");
    }
  }

  private static Set<Thread> nonDaemonThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && !t.isDaemon())
        .collect(Collectors.toSet());
  }

  @Test
  @Timeout(60)
  void closeLeavesNoNonDaemonThreads() throws Exception {
    Set<Thread> before = nonDaemonThreads();
    KwikServerEndpoint server = KwikServerEndpoint.start(KwikTestSupport.serverOptions(),
        KwikTestSupport.acceptor(KwikTestSupport::echo));
    ClientConnectionOptionsWithKeepAlive.run(server, 1);
    server.close();
    assertTrue(eventually(() -> {
      Set<Thread> now = nonDaemonThreads();
      now.removeAll(before);
      return now.isEmpty();
    }, 10_000), () -> "non-daemon threads left: " + nonDaemonThreads());
  }

  @Test
  @Timeout(60)
  void socketClosedUnderKwikDoesNotEndTheJvm() throws Exception {
    KwikServerEndpoint server = KwikServerEndpoint.start(KwikTestSupport.serverOptions(),
        KwikTestSupport.acceptor(KwikTestSupport::echo));
    KwikTestSupport.ClientHandler handler = new KwikTestSupport.ClientHandler();
    QuicConnection connection = KwikTestSupport.connect(server.localAddress(), handler);
    // The hazardous order: the socket dies while kwik's receiver is running (in 0.10.8 an
    // IOException there calls System.exit(9); a crashed fork would fail this build).
    server.socket().close();
    KwikTestSupport.Recorder recorder = new KwikTestSupport.Recorder(null, false);
    connection.openStream(true, recorder).get(10, TimeUnit.SECONDS)
        .write(ByteBuffer.wrap(new byte[10]), true);
    server.close();
    connection.close(0x100, "");
    handler.closed.get(10, TimeUnit.SECONDS);
    // Still alive: a new endpoint works end to end.
    try (KwikServerEndpoint again = KwikServerEndpoint.start(KwikTestSupport.serverOptions(),
        KwikTestSupport.acceptor(KwikTestSupport::echo))) {
      QuicConnection c2 = KwikTestSupport.connect(again.localAddress(), new KwikTestSupport.ClientHandler());
      KwikTestSupport.Recorder r2 = new KwikTestSupport.Recorder(null, false);
      QuicStream s2 = c2.openStream(true, r2).get(10, TimeUnit.SECONDS);
      s2.request(10);
      s2.write(ByteBuffer.wrap(new byte[] {42}), true);
      r2.endOfStream.get(10, TimeUnit.SECONDS);
      assertArrayEquals(new byte[] {42}, r2.bytes());
      c2.close(0x100, "");
    }
  }

  /** A client with keep-alive (kwik's keep-alive uses a non-daemon scheduler) doing one echo. */
  private static final class ClientConnectionOptionsWithKeepAlive {
    static void run(KwikServerEndpoint server, int keepAliveSeconds) throws Exception {
      var base = KwikTestSupport.clientOptions(server.localAddress());
      var options = new dev.grpcquic.engine.ClientConnectionOptions(base.host(), base.port(),
          base.serverName(), base.applicationProtocol(), base.trustManager(), base.connectTimeout(),
          base.idleTimeout(), base.streamReceiveWindow(), base.connectionReceiveWindow(),
          base.maxPeerUnidirectionalStreams(), keepAliveSeconds, base.blockingExecutor());
      KwikTestSupport.ClientHandler handler = new KwikTestSupport.ClientHandler();
      QuicConnection connection = new KwikClientEngine().connect(options, handler)
          .get(15, TimeUnit.SECONDS);
      KwikTestSupport.Recorder recorder = new KwikTestSupport.Recorder(null, false);
      QuicStream s = connection.openStream(true, recorder).get(10, TimeUnit.SECONDS);
      s.request(10);
      s.write(ByteBuffer.wrap(new byte[] {7}), true);
      recorder.endOfStream.get(10, TimeUnit.SECONDS);
      connection.close(0x100, "");
      handler.closed.get(10, TimeUnit.SECONDS);
    }
  }

}
