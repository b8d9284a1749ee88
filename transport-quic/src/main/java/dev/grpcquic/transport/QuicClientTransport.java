package dev.grpcquic.transport;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.ConnectionStats;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.engine.UnstartedConnection;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.http3.SettingId;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientStreamTracer;
import io.grpc.Grpc;
import io.grpc.InternalChannelz.SocketStats;
import io.grpc.InternalLogId;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.Status;
import io.grpc.internal.ClientStream;
import io.grpc.internal.ClientStreamListener.RpcProgress;
import io.grpc.internal.ConnectionClientTransport;
import io.grpc.internal.FailingClientStream;
import io.grpc.internal.GrpcAttributes;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.SimpleDisconnectError;
import io.grpc.internal.StatsTraceContext;
import io.grpc.internal.TransportTracer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.annotation.concurrent.GuardedBy;

/**
 * A gRPC client transport: one QUIC connection carrying HTTP/3 request streams. Lifecycle as in
 * grpc-java's other transports: start, ready, shutdown (calls in flight finish, then the connection
 * closes), shutdownNow (calls fail at once), terminated.
 *
 * <p>Lock: {@link #lock} guards the transport's state and every stream's transport state. Engine
 * calls made under it never block.
 */
final class QuicClientTransport implements ConnectionClientTransport, ConnectionHandler,
    Http3Control.Listener {
  private static final Logger log = Logger.getLogger(QuicClientTransport.class.getName());

  private final InetSocketAddress address;
  private final String authority;
  private final String userAgent;
  private final ClientTransportSettings settings;
  private final InternalLogId logId;
  private final Object lock = new Object();
  private final Attributes eagAttributes;
  /** QUIC transport error (RFC 9000 §20.1): the server refused the connection. */
  private static final long CONNECTION_REFUSED = 0x2;
  /** Call and message counts for channelz. */
  private final TransportTracer transportTracer = new TransportTracer();

  @GuardedBy("lock") private Listener listener;
  @GuardedBy("lock") private QuicConnection connection;
  @GuardedBy("lock") private Http3Control control;
  @GuardedBy("lock") private Attributes attributes = Attributes.EMPTY;
  @GuardedBy("lock") private final Set<QuicClientStream> streams = new LinkedHashSet<>();
  /** Streams opened (or being opened) on the connection, at most maxConcurrentStreams. */
  @GuardedBy("lock") private final Set<QuicClientStream> openStreams = new HashSet<>();
  /** Calls waiting for one of them to end. */
  @GuardedBy("lock") private final ArrayDeque<QuicClientStream> waitingToOpen = new ArrayDeque<>();
  /** DATA payload received and not yet consumed, over all streams (what flow control bounds). */
  private final AtomicLong bufferedBytes = new AtomicLong();
  /** Set once shutdown starts; new calls fail with it. */
  @GuardedBy("lock") private Status shutdownStatus;
  /** Streams at or above this ID were not processed by the server (its GOAWAY). */
  @GuardedBy("lock") private long goawayId = Long.MAX_VALUE;
  @GuardedBy("lock") private boolean closeRequested;
  @GuardedBy("lock") private boolean terminated;
  @GuardedBy("lock") private java.util.concurrent.ScheduledFuture<?> keepAlive;
  @GuardedBy("lock") private java.util.concurrent.ScheduledFuture<?> quietPathProbe;
  /** When a request stream last brought something, or the quiet-path probe last sent. */
  private volatile long lastHeardOrProbedNanos = System.nanoTime();
  /** The transport probes (startQuietPathProbe): only then is every frame's arrival noted. */
  private volatile boolean probingQuietPath;
  /** The server's SETTINGS arrived (a connection without them is given up: settingsTimedOut). */
  @GuardedBy("lock") private boolean settingsSeen;
  /** Server streams that came before the connection was handed over (see EarlyPeerStream). */
  @GuardedBy("lock") private final List<EarlyPeerStream> earlyPeerStreams = new ArrayList<>();
  /** The server refused this connection (CONNECTION_REFUSED): its tickets are not kept. */
  @GuardedBy("lock") private boolean refusedByServer;
  /** Chosen once, when the connection is made. */
  private volatile ConnectionWindows windows;

  /**
   * How long a 0-RTT transport waits, after its first call started, for calls that write nothing
   * (a bidi call waiting for the server, say) before it connects anyway.
   */
  static final long EARLY_GATHER_MILLIS = 50;
  /** At most this many calls go as early data on one connection. */
  static final int MAX_EARLY_CALLS = 8;

  private final ScheduledExecutorService timer;
  /** The session ticket this transport resumes with; null for a full handshake. */
  @GuardedBy("lock") private byte[] ticket;
  /**
   * 0-RTT mode: the transport reported ready before connecting, and connects when its first
   * calls have written their requests (they go as early data) or a call that may not go early
   * starts.
   */
  @GuardedBy("lock") private boolean zeroRtt;
  @GuardedBy("lock") private boolean connectStarted;
  /** Calls started before the connection exists that may go as early data. */
  @GuardedBy("lock") private final List<QuicClientStream> earlyCandidates = new ArrayList<>();
  /** Calls started before the connection exists that go once it does. */
  @GuardedBy("lock") private final List<QuicClientStream> awaitingConnection = new ArrayList<>();

  QuicClientTransport(InetSocketAddress address, String authority, String userAgent,
      Attributes eagAttributes, ClientTransportSettings settings,
      ScheduledExecutorService timer) {
    this.address = address;
    this.authority = authority;
    this.userAgent = GrpcUtil.getGrpcUserAgent("quic", userAgent);
    this.eagAttributes = eagAttributes;
    this.settings = settings;
    this.timer = java.util.Objects.requireNonNull(timer);
    this.logId = InternalLogId.allocate(getClass(), address.toString());
  }

  @Override
  public Runnable start(Listener transportListener) {
    boolean early;
    windows = settings.windowSizing().windowsFor(authority);
    synchronized (lock) {
      this.listener = transportListener;
      ticket = settings.sessionTickets() == null ? null : settings.sessionTickets().take(authority);
      zeroRtt = ticket != null && settings.earlyData();
      early = zeroRtt;
      if (early) {
        attributes = attributes(null);
      }
    }
    if (early) {
      // Ready before connecting: grpc-core hands a transport calls only once it is ready, and the
      // first calls must be known before the connection starts to go as 0-RTT data.
      return transportListener::transportReady;
    }
    return () -> connected(settings.engine().connect(connectOptions(), this));
  }

  /** Follows the connection being made (0-RTT mode: started with the early calls' streams). */
  private void connected(CompletableFuture<QuicConnection> connecting) {
    connecting.whenComplete((conn, error) -> {
      if (error != null) {
        onConnectFailed(error);
      } else {
        onConnected(conn);
      }
    });
  }

  private ClientConnectionOptions connectOptions() {
    String serverName = serverName(authority);
    ConnectionWindows chosen = windows;
    return new ClientConnectionOptions(
        address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString(),
        address.getPort(),
        serverName,
        "h3",
        settings.trustManager(),
        settings.connectTimeout(),
        settings.quicIdleTimeout(),
        chosen.streamWindow(),
        chosen.connectionWindow(),
        3,
        (int) Math.min(Integer.MAX_VALUE, settings.keepAliveTime().toSeconds()),
        settings.clientKeyManager(),
        settings.quietPathProbe(),
        ticketForConnect(),
        settings.keyLogFile());
  }

  private byte[] ticketForConnect() {
    synchronized (lock) {
      byte[] t = ticket;
      ticket = null; // single use
      return t;
    }
  }

  /** The host part of the authority: what the certificate must name, and the SNI. */
  static String serverName(String authority) {
    URI uri = GrpcUtil.authorityToUri(authority);
    String host = uri.getHost();
    if (host == null) {
      return authority;
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return host;
  }

  @GuardedBy("lock")
  private Attributes attributes(QuicConnection conn) {
    Attributes.Builder b = Attributes.newBuilder()
        .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, conn != null ? conn.remoteAddress() : address)
        .set(GrpcAttributes.ATTR_SECURITY_LEVEL, settings.trustManager() == null
            ? SecurityLevel.INTEGRITY : SecurityLevel.PRIVACY_AND_INTEGRITY)
        .set(GrpcAttributes.ATTR_CLIENT_EAG_ATTRS, eagAttributes)
        .set(TransportKeys.CONNECTION_STATS, () -> StatsSnapshots.of(connectionStats()))
        .set(TransportKeys.EARLY_DATA, () -> StatsSnapshots.of(earlyDataStats()))
        .set(TransportKeys.RECEIVE_BUFFERED_BYTES, bufferedBytes::get)
        .set(TransportKeys.TRANSPORT_PROTOCOL, "h3");
    if (conn != null) {
      b.set(Grpc.TRANSPORT_ATTR_LOCAL_ADDR, conn.localAddress());
    }
    return b.build();
  }

  private void onConnected(QuicConnection conn) {
    Listener l;
    boolean readyAlready;
    List<QuicClientStream> toOpen;
    synchronized (lock) {
      connection = conn;
      if (shutdownStatus != null && streams.isEmpty()) {
        // shutdown while connecting: nothing to wait for
        closeConnection(Http3ErrorCode.H3_NO_ERROR, "shut down");
        return;
      }
      control = new Http3Control(conn, settings.maxInboundMetadataSize(), this);
      attributes = attributes(conn);
      l = listener;
      readyAlready = zeroRtt;
      toOpen = new ArrayList<>(awaitingConnection);
      awaitingConnection.clear();
      if (settings.connectionRegistry() != null) {
        settings.connectionRegistry().add(conn);
      }
    }
    List<EarlyPeerStream> early;
    synchronized (lock) {
      early = new ArrayList<>(earlyPeerStreams);
      earlyPeerStreams.clear();
    }
    for (EarlyPeerStream e : early) {
      e.attach(control.onPeerUnidirectionalStream(e.stream()));
    }
    control.start().whenComplete((ok, error) -> {
      if (error != null) {
        log.log(Level.FINE, "control stream failed", error);
      }
    });
    startKeepAlive();
    startQuietPathProbe();
    for (QuicClientStream stream : toOpen) {
      openStream(stream);
    }
    if (!readyAlready) {
      // Ready at the handshake's end, not at the server's SETTINGS as grpc-java's Netty transport
      // is: RFC 9114 §6.2.1 lets a client send requests before the server's SETTINGS, and a
      // server sends them only once its own handshake is done, a round trip later than here. A
      // server that refuses the connection after its handshake closes it with CONNECTION_REFUSED
      // and the calls drawn meanwhile fail MISCARRIED (onClosed), which grpc-core retries.
      watchForSettings();
      l.transportReady();
    }
  }

  /** keepAliveTime on an engine that sends no PINGs itself: reserved frames on the control stream. */
  private void startKeepAlive() {
    long periodNanos = settings.keepAliveTime().toNanos();
    if (periodNanos <= 0 || settings.engine().sendsKeepAlivePings()) {
      return;
    }
    synchronized (lock) {
      if (terminated) {
        return;
      }
      keepAlive = timer.scheduleAtFixedRate(control::sendKeepAlive, periodNanos, periodNanos,
          TimeUnit.NANOSECONDS);
    }
  }

  /**
   * quietPathProbe on an engine that does not probe itself (quiche): with calls in flight and
   * nothing arrived on their streams for the period, a reserved frame on the control stream, so
   * that a server whose packets go to an address the client left (NAT rebinding) hears from the
   * new one. Without it a waiting client stays silent until the idle timeout (MigrationTest's
   * waiting-client test on a quiche client). Looks four times per period.
   */
  private void startQuietPathProbe() {
    long periodNanos = settings.quietPathProbe() == null ? 0 : settings.quietPathProbe().toNanos();
    if (periodNanos <= 0 || settings.engine().probesQuietPaths()) {
      return;
    }
    synchronized (lock) {
      if (terminated) {
        return;
      }
      probingQuietPath = true;
      long lookNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10), periodNanos / 4);
      quietPathProbe = timer.scheduleWithFixedDelay(() -> probeIfQuiet(periodNanos), lookNanos,
          lookNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void probeIfQuiet(long periodNanos) {
    long now = System.nanoTime();
    if (now - lastHeardOrProbedNanos < periodNanos) {
      return;
    }
    synchronized (lock) {
      if (streams.isEmpty() || terminated) {
        lastHeardOrProbedNanos = now; // a call starting now is not quiet yet
        return;
      }
    }
    lastHeardOrProbedNanos = now;
    control.sendKeepAlive();
  }

  /** A request stream brought a frame: the path works (for the quiet-path probe). */
  void heardFromServer() {
    if (probingQuietPath) {
      lastHeardOrProbedNanos = System.nanoTime();
    }
  }

  private void watchForSettings() {
    synchronized (lock) {
      if (!settingsSeen) {
        timer.schedule(this::settingsTimedOut, settings.connectTimeout().toMillis(),
            TimeUnit.MILLISECONDS);
      }
    }
  }

  /**
   * No SETTINGS within the connect timeout of the handshake's end: a server that refused the
   * connection after its handshake (a TLS 1.3 server checks a client certificate after the
   * client is done) may close it in a way the client never hears of.
   */
  private void settingsTimedOut() {
    synchronized (lock) {
      if (settingsSeen || shutdownStatus != null || terminated) {
        return;
      }
      Status status = Status.UNAVAILABLE.withDescription("QUIC connection to " + address
          + ": the handshake completed but the server sent no HTTP/3 SETTINGS within "
          + settings.connectTimeout().toMillis() + " ms; it may have refused the connection"
          + " (for instance for a missing client certificate)");
      startShutdown(status);
      // PROCESSED: the requests went out; a server that never sends SETTINGS may still have
      // acted on them, so they are not retried.
      failAll(status, RpcProgress.PROCESSED);
      closeConnection(Http3ErrorCode.H3_NO_ERROR, "no SETTINGS");
    }
  }

  /**
   * A server that refused the connection may still have issued a ticket in its handshake (quiche
   * does); with it, the next transport would report itself ready before connecting (0-RTT) and
   * draw calls that the same refusal fails again. Its tickets go.
   */
  private void forgetTickets() {
    SessionTicketStore store = settings.sessionTickets();
    if (store != null) {
      while (store.take(authority) != null) {
        // drop every ticket of this authority
      }
    }
  }

  @Override
  public void onSessionTicket(byte[] newTicket) {
    synchronized (lock) {
      if (refusedByServer) {
        return;
      }
    }
    if (settings.sessionTickets() != null) {
      settings.sessionTickets().put(authority, newTicket);
    }
  }

  // ---- 0-RTT: connecting with the first calls ----

  /** A call that may travel as 0-RTT data: safe or idempotent method, or opted in. */
  static boolean earlyEligible(MethodDescriptor<?, ?> method, CallOptions options) {
    return method.isSafe() || method.isIdempotent()
        || Boolean.TRUE.equals(options.getOption(TransportKeys.EARLY_DATA_CALL_OPTION));
  }

  /** An early candidate flushed its request (or ended it): time to connect. */
  @GuardedBy("lock")
  void earlyRequestWritten(QuicClientStream stream) {
    if (zeroRtt && !connectStarted && earlyCandidates.contains(stream)) {
      beginConnect();
    }
  }

  /**
   * Connects, sending as early data the request of every candidate that wrote some (its HEADERS
   * and DATA so far; a call that wrote nothing yet goes after the handshake).
   */
  @GuardedBy("lock")
  private void beginConnect() {
    if (connectStarted) {
      return;
    }
    connectStarted = true;
    // Sends nothing yet: the early calls' streams are opened on it first, and what their requests
    // wrote by the start goes as 0-RTT data when the ticket allows it.
    UnstartedConnection unstarted = settings.engine().open(connectOptions(), this);
    int early = 0;
    for (QuicClientStream stream : earlyCandidates) {
      QuicClientStream.TransportState state = stream.transportState();
      if (state.cancelled || !state.hasPendingData() || early >= MAX_EARLY_CALLS) {
        if (!state.cancelled) {
          awaitingConnection.add(stream);
        }
        continue;
      }
      Http3RequestStream http3 = state.newHttp3Stream(this::connectionErrorLater);
      state.streamOpened(unstarted.openStream(http3));
      early++;
    }
    earlyCandidates.clear();
    // Not under the lock's caller: the engine may complete futures on the calling thread, and
    // their callbacks change this transport's state. The engine never blocks: the timer's thread
    // is not held up.
    try {
      timer.execute(() -> connected(unstarted.start()));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      onConnectFailed(e);
    }
  }

  /**
   * An early call's stream never opened (the connection failed, or closed before the stream could
   * open): the request may have reached the server only as 0-RTT data, which this call was
   * allowed to send (replay-safe), so a retry is allowed too.
   */
  @GuardedBy("lock")
  void earlyStreamNotOpened(QuicClientStream stream, ConnectionCloseInfo info) {
    stream.transportState().fail(Status.UNAVAILABLE.withDescription("QUIC connection to " + address
        + " failed").withCause(new java.io.IOException(info.description())), RpcProgress.REFUSED,
        false);
    streamFinished(stream);
  }

  /** A connection error found on an early stream before the control stream existed. */
  private void connectionErrorLater(dev.grpcquic.http3.Http3Exception error) {
    Http3Control c;
    synchronized (lock) {
      c = control;
    }
    if (c != null) {
      c.connectionError(error);
    } else {
      synchronized (lock) {
        closeConnection(error.errorCode(), error.getMessage());
      }
    }
  }

  private dev.grpcquic.engine.EarlyDataStats earlyDataStats() {
    synchronized (lock) {
      return connection == null ? dev.grpcquic.engine.EarlyDataStats.NONE : connection.earlyData();
    }
  }

  private void onConnectFailed(Throwable error) {
    Throwable cause = error instanceof java.util.concurrent.CompletionException
        && error.getCause() != null ? error.getCause() : error;
    Status status = Status.UNAVAILABLE
        .withDescription("QUIC connection to " + address + " failed: " + cause.getMessage())
        .withCause(cause);
    synchronized (lock) {
      startShutdown(status);
      failAll(status, RpcProgress.REFUSED);
      terminate();
    }
  }

  @Override
  public ClientStream newStream(MethodDescriptor<?, ?> method, Metadata headers,
      CallOptions callOptions, ClientStreamTracer[] tracers) {
    synchronized (lock) {
      if (shutdownStatus != null) {
        // Never sent: grpc-core may retry it transparently as often as it needs (as grpc-netty
        // does after a GOAWAY); REFUSED allows one retry only, which a second pick of this
        // transport before grpc-core has heard of its shutdown would use up.
        return new FailingClientStream(shutdownStatus, RpcProgress.MISCARRIED, tracers);
      }
    }
    StatsTraceContext statsTraceCtx = StatsTraceContext.newClientContext(tracers,
        getAttributes(), headers);
    return new QuicClientStream(this, lock, authority, "/" + method.getFullMethodName(),
        userAgent, headers, callOptions, statsTraceCtx, settings.maxInboundMessageSize(),
        settings.maxInboundMetadataSize(), windows.streamWindow(), bufferedBytes,
        earlyEligible(method, callOptions), method.getType().clientSendsOneMessage(),
        transportTracer);
  }

  /**
   * The call starts: open its QUIC stream, now or when one of the open streams ends (and the
   * engine may wait for the server's stream limit too).
   */
  /** Whether the connection is up (a call's stream can open at once when it asks). */
  boolean connected() {
    synchronized (lock) {
      return connection != null;
    }
  }

  void startStream(QuicClientStream stream) {
    synchronized (lock) {
      if (zeroRtt && connection == null && shutdownStatus == null) {
        startBeforeConnection(stream);
        return;
      }
      if (shutdownStatus != null || connection == null) {
        Status status = shutdownStatus != null ? shutdownStatus
            : Status.UNAVAILABLE.withDescription("transport not ready");
        stream.transportState().fail(status, RpcProgress.MISCARRIED, false); // never sent
        return;
      }
      if (!admit(stream)) {
        return;
      }
    }
    openStream(stream);
  }

  /**
   * Counts a new call in and takes one of the connection's stream slots for it; false when all are
   * taken (the call then waits in {@code waitingToOpen}).
   */
  @GuardedBy("lock")
  private boolean admit(QuicClientStream stream) {
    streams.add(stream);
    if (streams.size() == 1) {
      listener.transportInUse(true);
    }
    if (openStreams.size() >= windows.maxStreams()) {
      waitingToOpen.add(stream);
      return false;
    }
    openStreams.add(stream);
    return true;
  }

  /** 0-RTT mode, no connection yet: the call waits for it, or may go as early data. */
  @GuardedBy("lock")
  private void startBeforeConnection(QuicClientStream stream) {
    if (!admit(stream)) {
      return;
    }
    if (connectStarted) {
      awaitingConnection.add(stream);
      return;
    }
    if (!stream.earlyEligible()) {
      awaitingConnection.add(stream);
      beginConnect();
      return;
    }
    earlyCandidates.add(stream);
    if (earlyCandidates.size() == 1) {
      timer.schedule(() -> {
        synchronized (lock) {
          beginConnect();
        }
      }, EARLY_GATHER_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  private void openStream(QuicClientStream stream) {
    QuicClientStream.TransportState state = stream.transportState();
    QuicConnection conn;
    Http3RequestStream http3;
    synchronized (lock) {
      conn = connection;
      http3 = state.newHttp3Stream(control);
    }
    // Asked for from the engine's event thread, so that the reaction is registered before the
    // stream can open and runs there: the request's writes leave in that same turn instead of
    // waking the loop again (an event-loop engine opens the stream on its loop at once).
    conn.eventExecutor().execute(() -> conn.openStream(true, http3).whenComplete(
        (quicStream, error) -> streamOpened(stream, http3, quicStream, error)));
  }

  private void streamOpened(QuicClientStream stream, Http3RequestStream http3,
      QuicStream quicStream, Throwable error) {
    QuicClientStream.TransportState state = stream.transportState();
    synchronized (lock) {
      if (error != null) {
        // Nothing of the call was sent, so grpc-core may retry it anywhere (MISCARRIED; REFUSED
        // is retried once only, and this connection would refuse the retry too): a connection
        // that cannot open streams is going away (kwik says "not connected" while it closes,
        // before its close reaches onClosed), so no new call is given to it.
        Status status = Status.UNAVAILABLE.withDescription("could not open a stream")
            .withCause(error);
        if (!state.cancelled) {
          state.fail(status, RpcProgress.MISCARRIED, false);
        }
        startShutdown(status);
        streamFinished(stream);
        return;
      }
      if (quicStream.id() >= goawayId) {
        http3.attach(quicStream);
        // Nothing was written on it: as unsent as a call refused before its stream opened.
        state.fail(Status.UNAVAILABLE.withDescription("server sent GOAWAY"),
            RpcProgress.MISCARRIED, true);
        streamFinished(stream);
        return;
      }
      state.streamOpened(quicStream);
    }
  }

  /** The call ended, however it ended. Idempotent. */
  @GuardedBy("lock")
  void streamFinished(QuicClientStream stream) {
    if (!streams.remove(stream)) {
      return;
    }
    waitingToOpen.remove(stream);
    Http3RequestStream http3 = stream.transportState().http3;
    if (http3 != null) {
      http3.release();
    }
    if (openStreams.remove(stream) && shutdownStatus == null) {
      QuicClientStream next = waitingToOpen.poll();
      if (next != null) {
        openStreams.add(next);
        // Not under this lock's caller's feet: opening calls into the engine and grpc-core. The
        // engine never blocks: the timer's thread is not held up.
        timer.execute(() -> openStream(next));
      }
    }
    if (streams.isEmpty()) {
      listener.transportInUse(false);
      // Also now, not only at the end: grpc-core keeps an unused connection up to 5 s after it
      // started a new one (enterIdle, address changes), and the new one should already know.
      rememberPath(connection);
      if (shutdownStatus != null) {
        closeConnection(Http3ErrorCode.H3_NO_ERROR, "shut down");
      }
    }
  }

  @Override
  public void ping(PingCallback callback, Executor executor) {
    // kwik sends QUIC PINGs for keepalive by itself but offers no on-demand ping with an answer.
    executor.execute(() -> callback.onFailure(Status.UNIMPLEMENTED.withDescription(
        "ping is not supported by the QUIC transport; keepalive uses QUIC PING frames")));
  }

  @Override
  public void shutdown(Status reason) {
    synchronized (lock) {
      if (shutdownStatus != null) {
        return;
      }
      startShutdown(reason);
      if (streams.isEmpty()) {
        closeConnection(Http3ErrorCode.H3_NO_ERROR, "shut down");
      }
    }
  }

  @Override
  public void shutdownNow(Status reason) {
    synchronized (lock) {
      startShutdown(reason);
      failAll(reason, RpcProgress.PROCESSED);
      closeConnection(Http3ErrorCode.H3_NO_ERROR, "shut down now");
    }
  }

  @GuardedBy("lock")
  private void startShutdown(Status status) {
    if (ticket != null && !connectStarted && settings.sessionTickets() != null) {
      settings.sessionTickets().put(authority, ticket); // never used: keep it for the next one
      ticket = null;
    }
    if (shutdownStatus == null) {
      shutdownStatus = status;
      listener.transportShutdown(status, SimpleDisconnectError.SUBCHANNEL_SHUTDOWN);
    }
  }

  @GuardedBy("lock")
  private void failAll(Status status, RpcProgress progress) {
    for (QuicClientStream stream : new ArrayList<>(streams)) {
      // A call still waiting for a stream never reached the server.
      stream.transportState().fail(status,
          waitingToOpen.contains(stream) ? RpcProgress.MISCARRIED : progress, true);
    }
    streams.clear();
    openStreams.clear();
    waitingToOpen.clear();
    earlyCandidates.clear();
    awaitingConnection.clear();
  }

  @GuardedBy("lock")
  private void closeConnection(long code, String reason) {
    if (closeRequested) {
      return;
    }
    closeRequested = true;
    if (connection != null) {
      connection.close(code, reason);
    }
    terminate();
  }

  @GuardedBy("lock")
  private void terminate() {
    if (!terminated) {
      terminated = true;
      if (keepAlive != null) {
        keepAlive.cancel(false);
      }
      if (quietPathProbe != null) {
        quietPathProbe.cancel(false);
      }
      if (connection != null) {
        rememberPath(connection);
      }
      if (connection != null && settings.connectionRegistry() != null) {
        settings.connectionRegistry().remove(connection);
      }
      listener.transportTerminated();
    }
  }

  /** What the connection measured sizes the next connection's windows (see ClientWindowSizing). */
  private void rememberPath(QuicConnection conn) {
    try {
      settings.windowSizing().connectionEnded(authority, conn.stats());
    } catch (RuntimeException e) {
      log.log(Level.FINE, "no statistics from the ended connection", e);
    }
  }

  // ---- ConnectionHandler (engine threads) ----

  @Override
  public StreamHandler onPeerStream(QuicStream stream) {
    Http3Control c;
    synchronized (lock) {
      c = control;
      if (c == null && !stream.isBidirectional() && !terminated) {
        EarlyPeerStream early = new EarlyPeerStream(stream);
        earlyPeerStreams.add(early);
        return early;
      }
    }
    if (!stream.isBidirectional() && c != null) {
      return c.onPeerUnidirectionalStream(stream);
    }
    // RFC 9114 §6.1: a server may not open bidirectional streams.
    if (c != null) {
      c.connectionError(dev.grpcquic.http3.Http3Exception.connection(
          Http3ErrorCode.H3_STREAM_CREATION_ERROR, "server opened a bidirectional stream"));
    }
    return new DiscardingStreamHandler();
  }

  @Override
  public void onClosed(ConnectionCloseInfo info) {
    Status status = Http3Errors.statusForConnectionClose(info);
    synchronized (lock) {
      closeRequested = true;
      if (shutdownStatus == null) {
        shutdownStatus = status;
        listener.transportShutdown(status, info.reason() == ConnectionCloseInfo.Reason.IDLE_TIMEOUT
            ? SimpleDisconnectError.CONNECTION_TIMED_OUT : SimpleDisconnectError.CONNECTION_RESET);
      }
      // CONNECTION_REFUSED (a draining server) answers the Initial: nothing reached the server,
      // not even 0-RTT calls, so grpc-core may retry them elsewhere.
      boolean refused = info.byPeer() && info.transportErrorCode() == CONNECTION_REFUSED;
      if (refused) {
        refusedByServer = true;
        forgetTickets();
      }
      // MISCARRIED, not REFUSED: grpc-core retries REFUSED once only, and with 0-RTT a call can
      // meet a second refusing connection to a draining server (a kwik client holding tickets
      // of the other servers of the same authority reports each new transport ready at once).
      failAll(status, refused ? RpcProgress.MISCARRIED : RpcProgress.PROCESSED);
      terminate();
    }
  }

  // ---- Http3Control.Listener ----

  @Override
  public void onGoaway(long id) {
    synchronized (lock) {
      goawayId = Math.min(goawayId, id);
      startShutdown(Status.UNAVAILABLE.withDescription("server sent GOAWAY"));
      for (QuicClientStream stream : new ArrayList<>(streams)) {
        Http3RequestStream http3 = stream.transportState().http3;
        long streamId = http3 == null ? -1 : http3.id();
        if (streamId >= goawayId) {
          stream.transportState().fail(Status.UNAVAILABLE.withDescription(
              "server sent GOAWAY before processing the call"), RpcProgress.REFUSED, true);
          streamFinished(stream);
        }
      }
      if (streams.isEmpty()) {
        closeConnection(Http3ErrorCode.H3_NO_ERROR, "GOAWAY");
      }
    }
  }

  @Override
  public void onSettings(Map<Long, Long> peerSettings) {
    synchronized (lock) {
      settingsSeen = true;
    }
    Long maxFieldSection = peerSettings.get(SettingId.MAX_FIELD_SECTION_SIZE);
    if (maxFieldSection != null) {
      log.log(Level.FINE, "server accepts field sections up to {0} bytes", maxFieldSection);
    }
  }

  // ---- identity and stats ----

  @Override
  public Attributes getAttributes() {
    synchronized (lock) {
      return attributes;
    }
  }

  @Override
  public InternalLogId getLogId() {
    return logId;
  }

  @Override
  public ListenableFuture<SocketStats> getStats() {
    QuicConnection conn;
    synchronized (lock) {
      conn = connection;
    }
    SettableFuture<SocketStats> result = SettableFuture.create();
    result.set(ChannelzStats.of(transportTracer, conn));
    return result;
  }

  /** RTT and packet counts of the connection, or null before it exists. */
  ConnectionStats connectionStats() {
    synchronized (lock) {
      return connection == null ? null : connection.stats();
    }
  }

  @Override
  public String toString() {
    return "QuicClientTransport(" + address + ")";
  }
}
