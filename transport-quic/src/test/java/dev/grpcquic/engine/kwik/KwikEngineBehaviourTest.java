package dev.grpcquic.engine.kwik;

import dev.grpcquic.engine.EngineTestSupport;
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
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What the kwik adapter does about kwik's own defects (see docs/design.md's kwik table). */
class KwikEngineBehaviourTest {


  /**
   * A stream reset while its writer (or reader) is busy is let go once they stop: a stream kept
   * by the connection after it ended would, on a client, keep the quiet-path probe pinging and
   * the connection out of idle for good.
   */
  @Test
  @Timeout(60)
  void streamsResetWhileBusyAreLetGo() throws Exception {
    try (KwikServerEndpoint server = KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(s -> {
          s.request(Integer.MAX_VALUE);
          s.write(ByteBuffer.wrap(new byte[256 * 1024]), false);
          return new EngineTestSupport.Recorder(s, true);
        }))) {
      EngineTestSupport.ClientHandler handler = new EngineTestSupport.ClientHandler();
      QuicConnection connection = EngineTestSupport.connect(new KwikClientEngine(),
          server.localAddress(), handler);
      for (int i = 0; i < 100; i++) {
        EngineTestSupport.Recorder reader = new EngineTestSupport.Recorder(null, true);
        QuicStream stream;
        try {
          stream = connection.openStream(true, reader).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
          ConnectionCloseInfo closed = null;
          try {
            closed = handler.closed.get(5, TimeUnit.SECONDS);
          } catch (java.util.concurrent.TimeoutException notClosed) {
          }
          throw new AssertionError("stream " + i + ": " + e.getCause() + ", connection " + closed, e);
        }
        reader.stream = stream;
        stream.request(Integer.MAX_VALUE);
        for (int j = 0; j < 32; j++) {
          stream.write(ByteBuffer.wrap(new byte[16 * 1024]), false);
        }
        long queued = stream.queuedBytes();
        int index = i;
        assertTrue(EngineTestSupport.eventually(() -> stream.queuedBytes() < queued, 10_000),
            () -> "writer of stream " + index + " started: " + stream.queuedBytes() + " of "
                + queued + " bytes still queued; connection closed: "
                + handler.closed.getNow(null) + "; " + ((KwikConnection) connection)
                    .describeRequestStreams());
        stream.reset(0x10c);
      }
      KwikConnection client = (KwikConnection) connection;
      assertTrue(EngineTestSupport.eventually(() -> client.openStreamCount() == 0, 20_000),
          client.openStreamCount() + " streams still held: " + client.describeRequestStreams());
      connection.close(0x100, "");
    }
  }

  /**
   * kwik ends a client connection on an exception in its own threads ({@code abortConnection})
   * without telling any listener; {@link AbortWatch} must tell the handler, with kwik's reason,
   * and new streams must fail as on a closed connection rather than with "not connected".
   */
  @Test
  @Timeout(60)
  void connectionAbortedInsideKwikIsReported() throws Exception {
    try (KwikServerEndpoint server = KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(EngineTestSupport::echo))) {
      EngineTestSupport.ClientHandler handler = new EngineTestSupport.ClientHandler();
      KwikConnection connection = (KwikConnection) EngineTestSupport.connect(
          new KwikClientEngine(), server.localAddress(), handler);
      ((tech.kwik.core.impl.QuicConnectionImpl) connection.kwik())
          .abortConnection(new IllegalStateException("injected sender fault"));
      ConnectionCloseInfo closed = handler.closed.get(10, TimeUnit.SECONDS);
      assertEquals(ConnectionCloseInfo.Reason.LOST, closed.reason(), closed.toString());
      assertTrue(closed.description().contains("injected sender fault"), closed.toString());
      java.util.concurrent.ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(
          java.util.concurrent.ExecutionException.class,
          () -> connection.openStream(true, new EngineTestSupport.Recorder(null, false))
              .get(10, TimeUnit.SECONDS));
      assertTrue(connection.isClosingOrClosed(), String.valueOf(failed.getCause()));
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
    try (KwikServerEndpoint server = KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(s -> {
          s.request(1 << 16);
          s.write(ByteBuffer.wrap(new byte[streamWindow]), true);
          return new EngineTestSupport.Recorder(s, true);
        }))) {
      QuicConnection connection = new KwikClientEngine().connect(
          EngineTestSupport.clientOptions(server.localAddress(), Duration.ofSeconds(30), streamWindow),
          new EngineTestSupport.ClientHandler()).get(15, TimeUnit.SECONDS);
      // The connection window is 10 stream windows: 20 streams abandoned full would use it up.
      for (int i = 0; i < 20; i++) {
        QuicStream stream = connection.openStream(true, new EngineTestSupport.Recorder(null, false))
            .get(10, TimeUnit.SECONDS);
        stream.write(ByteBuffer.wrap(new byte[] {1}), true);
        KwikStream kwikStream = (KwikStream) stream;
        int n = i;
        assertTrue(EngineTestSupport.eventually(() -> kwikStream.unreadBytes() == streamWindow,
            10_000),
            () -> "stream " + n + " got " + kwikStream.unreadBytes() + " bytes");
        stream.stopSending(0x10c);
      }
      EngineTestSupport.Recorder reader = new EngineTestSupport.Recorder(null, true);
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
  void closeLeavesNoNonDaemonThreads() throws Exception {
    Set<Thread> before = nonDaemonThreads();
    KwikServerEndpoint server = KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(EngineTestSupport::echo));
    ClientConnectionOptionsWithKeepAlive.run(server, 1);
    server.close();
    assertTrue(EngineTestSupport.eventually(() -> {
      Set<Thread> now = nonDaemonThreads();
      now.removeAll(before);
      return now.isEmpty();
    }, 10_000), () -> "non-daemon threads left: " + nonDaemonThreads());
  }

  @Test
  @Timeout(60)
  void socketClosedUnderKwikDoesNotEndTheJvm() throws Exception {
    KwikServerEndpoint server = KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(EngineTestSupport::echo));
    EngineTestSupport.ClientHandler handler = new EngineTestSupport.ClientHandler();
    QuicConnection connection = EngineTestSupport.connect(new KwikClientEngine(),
        server.localAddress(), handler);
    // The hazardous order: the socket dies while kwik's receiver is running (in 0.10.8 an
    // IOException there calls System.exit(9); a crashed fork would fail this build).
    server.socket().close();
    EngineTestSupport.Recorder recorder = new EngineTestSupport.Recorder(null, false);
    connection.openStream(true, recorder).get(10, TimeUnit.SECONDS)
        .write(ByteBuffer.wrap(new byte[10]), true);
    server.close();
    connection.close(0x100, "");
    handler.closed.get(10, TimeUnit.SECONDS);
    // Still alive: a new endpoint works end to end.
    try (KwikServerEndpoint again = KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(EngineTestSupport::echo))) {
      QuicConnection c2 = EngineTestSupport.connect(new KwikClientEngine(),
          again.localAddress(), new EngineTestSupport.ClientHandler());
      EngineTestSupport.Recorder r2 = new EngineTestSupport.Recorder(null, false);
      QuicStream s2 = c2.openStream(true, r2).get(10, TimeUnit.SECONDS);
      s2.request(10);
      s2.write(ByteBuffer.wrap(new byte[] {42}), true);
      r2.endOfStream.get(10, TimeUnit.SECONDS);
      assertArrayEquals(new byte[] {42}, r2.bytes());
      c2.close(0x100, "");
    }
  }

  /**
   * kwik blocks, so the adapter runs that work on threads of its own, named for a client
   * connection or a server endpoint (the seam carries no executor). They belong to that one
   * connection or endpoint and end with it, not after a pool's idle time.
   */
  @Test
  @Timeout(60)
  void threadsForBlockingWorkEndWithTheirConnectionAndEndpoint() throws Exception {
    Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
    KwikServerEndpoint server = KwikServerEndpoint.start(EngineTestSupport.serverOptions(),
        EngineTestSupport.acceptor(EngineTestSupport::echo));
    EngineTestSupport.ClientHandler handler = new EngineTestSupport.ClientHandler();
    QuicConnection connection = EngineTestSupport.connect(new KwikClientEngine(),
        server.localAddress(), handler);
    EngineTestSupport.Recorder recorder = new EngineTestSupport.Recorder(null, false);
    QuicStream stream = connection.openStream(true, recorder).get(10, TimeUnit.SECONDS);
    stream.request(200_000);
    stream.write(ByteBuffer.wrap(new byte[100_000]), true);
    recorder.endOfStream.get(10, TimeUnit.SECONDS);
    assertEquals(100_000, recorder.received.get());
    assertFalse(adapterThreads(before, "grpc-quic-kwik-client-").isEmpty(), "client threads");
    assertFalse(adapterThreads(before, "grpc-quic-kwik-server-").isEmpty(), "server threads");

    connection.close(0x100, "");
    handler.closed.get(10, TimeUnit.SECONDS);
    assertTrue(EngineTestSupport.eventually(
        () -> adapterThreads(before, "grpc-quic-kwik-client-").isEmpty(), 10_000),
        () -> "left after the connection closed: " + adapterThreads(before, "grpc-quic-kwik-client-"));
    server.close();
    assertTrue(EngineTestSupport.eventually(
        () -> adapterThreads(before, "grpc-quic-kwik-server-").isEmpty(), 10_000),
        () -> "left after the endpoint closed: " + adapterThreads(before, "grpc-quic-kwik-server-"));
  }

  /** Live daemon threads started since {@code before} whose names start with {@code prefix}. */
  private static List<String> adapterThreads(Set<Thread> before, String prefix) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && !before.contains(t) && t.getName().startsWith(prefix))
        .map(t -> t.getName() + (t.isDaemon() ? "" : " (not a daemon)"))
        .sorted().toList();
  }

  /** A client with keep-alive (kwik's keep-alive uses a non-daemon scheduler) doing one echo. */
  private static Set<Thread> nonDaemonThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && !t.isDaemon())
        .collect(Collectors.toSet());
  }

  private static final class ClientConnectionOptionsWithKeepAlive {
    static void run(KwikServerEndpoint server, int keepAliveSeconds) throws Exception {
      var base = EngineTestSupport.clientOptions(server.localAddress());
      var options = new dev.grpcquic.engine.ClientConnectionOptions(base.host(), base.port(),
          base.serverName(), base.applicationProtocol(), base.trustManager(), base.connectTimeout(),
          base.idleTimeout(), base.streamReceiveWindow(), base.connectionReceiveWindow(),
          base.maxPeerUnidirectionalStreams(), keepAliveSeconds);
      EngineTestSupport.ClientHandler handler = new EngineTestSupport.ClientHandler();
      QuicConnection connection = new KwikClientEngine().connect(options, handler)
          .get(15, TimeUnit.SECONDS);
      EngineTestSupport.Recorder recorder = new EngineTestSupport.Recorder(null, false);
      QuicStream s = connection.openStream(true, recorder).get(10, TimeUnit.SECONDS);
      s.request(10);
      s.write(ByteBuffer.wrap(new byte[] {7}), true);
      recorder.endOfStream.get(10, TimeUnit.SECONDS);
      connection.close(0x100, "");
      handler.closed.get(10, TimeUnit.SECONDS);
    }
  }

}
