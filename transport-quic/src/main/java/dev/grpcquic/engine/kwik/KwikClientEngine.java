package dev.grpcquic.engine.kwik;

import java.time.Duration;
import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.QuicClientEngine;
import dev.grpcquic.engine.PendingStream;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.UnstartedConnection;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketException;
import java.util.List;
import tech.kwik.core.QuicSessionTicket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.QuicClientConnection;

/**
 * Client connections on kwik. kwik's {@code connect()}, stream creation and stream I/O block, so
 * they run on the engine's executor, when one was given, or else on daemon threads of each
 * connection's own (named {@code grpc-quic-kwik-client-N-M}), which end when the connection does:
 * nothing here blocks the caller. kwik's client threads (receiver, sender) inherit the daemon flag
 * of the thread that connects.
 *
 * <p>Server name: kwik uses the builder's {@code host} both for SNI and certificate host-name check
 * and, unless {@code proxy(..)} is set, for the address to send to. When {@code serverName} differs
 * from {@code host} (for instance host is a literal IP), the engine passes serverName as kwik's host
 * and the real host as kwik's proxy, so packets go to {@code host} and TLS uses {@code serverName}.
 *
 * <p>The server certificate: {@link ServerCertificateCheck} (trust path and name, DNS or IP).
 * A failed handshake says why in the close description and the connect error: the check's
 * reason, an ICMP port unreachable on the connected socket ({@link ClientDatagramSocket}), or
 * nothing received before the connect timeout.
 *
 * <p>Resumption and 0-RTT: see {@link ZeroRtt}.
 *
 * <p>A ServerHello that arrives before agent15's TLS engine waits for it is dropped and the
 * handshake hangs: {@link ServerHelloGate} holds received datagrams until it waits.
 *
 * <p>kwik's public client builder fixes the connection window at 10x the stream window;
 * {@link ConnectionWindow} sets {@code connectionReceiveWindow} instead.
 */
public final class KwikClientEngine implements QuicClientEngine {

  private static final Logger LOG = Logger.getLogger(KwikClientEngine.class.getName());
  /** SO_RCVBUF / SO_SNDBUF asked for on each client socket. */
  static final int SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
  /** Numbers each connection's threads. */
  private static final AtomicInteger CONNECTIONS = new AtomicInteger();

  private final Executor executor;

  /** Each connection runs its blocking work on threads of its own. */
  public KwikClientEngine() {
    this(null);
  }

  /**
   * @param executor runs the blocking work of every connection (its threads should be daemons);
   *     null: each connection's own threads
   */
  public KwikClientEngine(Executor executor) {
    this.executor = executor;
  }

  @Override
  public boolean sendsKeepAlivePings() {
    return true; // the adapter pings (KwikConnection.startKeepAlive)
  }

  @Override
  public boolean probesQuietPaths() {
    return true; // QuietPathProbe
  }

  /**
   * Streams opened before the start are {@link PendingStream}s; at the start their first bytes
   * become kwik's early data ({@link ZeroRtt}).
   */
  @Override
  public UnstartedConnection open(ClientConnectionOptions options, ConnectionHandler handler) {
    return PendingStream.collector(early -> startConnection(options, handler, early));
  }

  private CompletableFuture<QuicConnection> startConnection(ClientConnectionOptions options,
      ConnectionHandler handler, List<PendingStream> earlyStreams) {
    CompletableFuture<QuicConnection> future = new CompletableFuture<>();
    ExecutorService owned = executor != null ? null
        : KwikExecutors.newBlockingExecutor("grpc-quic-kwik-client-" + CONNECTIONS.incrementAndGet());
    Executor blocking = owned != null ? owned : executor;
    future.whenComplete((conn, error) -> {
      if (error != null) {
        earlyStreams.forEach(e -> e.fail(error));
        if (owned != null) {
          owned.shutdown(); // no connection: nothing else runs on it
        }
      }
    });
    try {
      blocking.execute(() -> connectBlocking(options, handler, earlyStreams, blocking, owned, future));
    } catch (RejectedExecutionException e) {
      future.completeExceptionally(e);
    }
    return future;
  }

  /**
   * On {@code blocking}; {@code owned}: the connection's own pool (null when the engine was given
   * an executor), which the connection shuts down when it ends.
   */
  private static void connectBlocking(ClientConnectionOptions options, ConnectionHandler handler,
      List<PendingStream> earlyStreams, Executor blocking, ExecutorService owned,
      CompletableFuture<QuicConnection> future) {
    QuicClientConnection kwik = null;
    KwikConnection connection = null;
    KwikAssertions.ensureApplied();
    KwikPrivateAccess.reportOnce();
    QuietPathProbe probe = new QuietPathProbe(options.quietPathProbe());
    ServerHelloGate gate = new ServerHelloGate();
    KeyLog keyLog = null;
    ServerCertificateCheck check = null;
    AtomicReference<ClientDatagramSocket> firstSocket = new AtomicReference<>();
    try {
      String serverName = options.serverName() == null || options.serverName().isEmpty()
          ? options.host() : options.serverName();
      if (options.trustManager() != null && ServerCertificateCheck.isIpLiteral(serverName)
          && !ServerCertificateCheck.verifiesIpAddresses()) {
        // agent15 matches the server name against DNS entries of the certificate only.
        throw new IllegalArgumentException("kwik verifies server certificates against DNS names"
            + " only, not the IP address " + serverName + ": connect by host name, or set the"
            + " channel's overrideAuthority to a DNS name of the server's certificate");
      }
      StreamFrameLog frameLog = new StreamFrameLog(true);
      JulKwikLogger logger = new JulKwikLogger("client: ", null, frameLog);
      QuicClientConnection.Builder builder = QuicClientConnection.newBuilder()
          .host(serverName)
          .port(options.port())
          .applicationProtocol(options.applicationProtocol())
          .connectTimeout(options.connectTimeout())
          .maxIdleTimeout(options.idleTimeout())
          .defaultStreamReceiveBufferSize(options.streamReceiveWindow())
          .maxOpenPeerInitiatedUnidirectionalStreams(
              Math.max(3, options.maxPeerUnidirectionalStreams()))
          .maxOpenPeerInitiatedBidirectionalStreams(0)
          .socketFactory(destination -> {
            ClientDatagramSocket socket = newSocket(probe, gate, destination, options.port());
            firstSocket.compareAndSet(null, socket);
            return socket;
          })
          .logger(logger);
      QuicSessionTicket ticket = ZeroRtt.ticket(options.sessionTicket());
      if (ticket != null) {
        builder.sessionTicket(ticket);
      }
      ConnectionWindow.set(builder,
          Math.max(options.connectionReceiveWindow(), options.streamReceiveWindow()));
      if (!serverName.equals(options.host())) {
        builder.proxy(options.host());
      }
      if (options.clientKeyManager() != null) {
        builder.clientKeyManager(options.clientKeyManager());
      }
      if (options.trustManager() != null) {
        check = new ServerCertificateCheck(options.trustManager());
        builder.customTrustManager(check);
      } else {
        builder.noServerCertificateCheck();
      }
      if (options.keyLogFile() != null) {
        keyLog = KeyLog.forConnection(options.keyLogFile());
        builder.secrets(keyLog.connectionFile());
      }
      kwik = builder.build();
      if (check != null) {
        check.install(kwik);
      }
      gate.watch(kwik);
      connection = new KwikConnection(kwik, blocking, handler, frameLog);
      if (owned != null) {
        connection.shutDownWhenTerminated(owned);
      }
      ServerCertificateCheck certificateCheck = check;
      connection.explainHandshakeFailure(
          () -> explain(options, certificateCheck, firstSocket.get(), null));
      connection.setStreamReceiveWindow(options.streamReceiveWindow());
      kwik.setPeerInitiatedStreamCallback(connection::onPeerStream);
      ZeroRtt zeroRtt = new ZeroRtt(ticket, earlyStreams, logger);
      zeroRtt.install(kwik, gate);
      List<tech.kwik.core.QuicStream> sentEarly = kwik.connect(zeroRtt.earlyData());
      if (keyLog != null) {
        // kwik wrote the handshake and 1-RTT secrets before connect() returned.
        keyLog.publish();
        keyLog = null;
      }
      connection.markEstablished();
      connection.startAbortWatch(logger::lastError);
      connection.setEarlyData(zeroRtt, kwik);
      connection.pollSessionTickets();
      if (options.keepAliveSeconds() > 0) {
        connection.startKeepAlive(Duration.ofSeconds(options.keepAliveSeconds()));
      }
      connection.startQuietPathProbe(probe);
      if (!future.complete(connection)) {
        connection.close(0, "connect abandoned");
      } else {
        zeroRtt.openStreams(connection, sentEarly);
      }
    } catch (Exception | Error e) {
      LOG.log(Level.FINE, "connect to " + options.host() + ":" + options.port() + " failed", e);
      if (connection != null) {
        connection.abandon(); // the caller never saw it: no onClosed
      }
      if (kwik != null) {
        try {
          kwik.close();
        } catch (RuntimeException ignored) {
          // already failed
        }
      }
      String why = explain(options, check, firstSocket.get(), e);
      future.completeExceptionally(why == null ? e : new IOException(why, e));
    } finally {
      if (keyLog != null) {
        keyLog.publish(); // a failed handshake's secrets help to see why it failed
      }
    }
  }

  /**
   * Why a handshake failed, in words that say what to fix, or null when kwik's own say it: the
   * certificate check's reason, an ICMP port unreachable, or silence until the connect timeout
   * ({@code error} null: the connection's close, before connect() threw).
   */
  private static String explain(ClientConnectionOptions options, ServerCertificateCheck check,
      ClientDatagramSocket socket, Throwable error) {
    String where = options.host() + ":" + options.port();
    if (check != null && check.failure() != null) {
      return check.failure();
    }
    if (socket != null && socket.portUnreachable()) {
      return "no QUIC server answered at " + where + " (UDP): port unreachable";
    }
    if (socket != null && !socket.received() && error instanceof java.net.ConnectException
        && String.valueOf(error.getMessage()).contains("timed out")) {
      return "no QUIC server answered at " + where + " (UDP) within "
          + options.connectTimeout().toMillis() + " ms: no server there, or the path drops UDP";
    }
    return null;
  }

  private static ClientDatagramSocket newSocket(QuietPathProbe probe, ServerHelloGate gate,
      InetAddress server, int port) throws SocketException {
    ClientDatagramSocket socket = new ClientDatagramSocket(probe, gate, server, port);
    enlargeBuffers(socket);
    return socket;
  }

  static void enlargeBuffers(DatagramSocket socket) {
    try {
      socket.setReceiveBufferSize(SOCKET_BUFFER_BYTES);
      socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
    } catch (SocketException e) {
      LOG.log(Level.FINE, "could not enlarge socket buffers", e);
    }
  }
}
