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
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
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
  /** Chosen once, when the connection is made. */
  private volatile ConnectionWindows windows;

  QuicClientTransport(InetSocketAddress address, String authority, String userAgent,
      Attributes eagAttributes, ClientTransportSettings settings) {
    this.address = address;
    this.authority = authority;
    this.userAgent = GrpcUtil.getGrpcUserAgent("quic", userAgent);
    this.eagAttributes = eagAttributes;
    this.settings = settings;
    this.logId = InternalLogId.allocate(getClass(), address.toString());
  }

  @Override
  public Runnable start(Listener transportListener) {
    synchronized (lock) {
      this.listener = transportListener;
    }
    windows = settings.windowSizing().windowsFor(authority);
    return () -> settings.engine().connect(connectOptions(), this).whenComplete((conn, error) -> {
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
        settings.blockingExecutor(),
        settings.clientKeyManager(),
        settings.quietPathProbe());
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

  private void onConnected(QuicConnection conn) {
    Listener l;
    synchronized (lock) {
      connection = conn;
      if (shutdownStatus != null) {
        // shutdown while connecting: nothing to wait for
        closeConnection(Http3ErrorCode.H3_NO_ERROR, "shut down");
        return;
      }
      control = new Http3Control(conn, settings.maxInboundMetadataSize(), this);
      attributes = Attributes.newBuilder()
          .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, conn.remoteAddress())
          .set(Grpc.TRANSPORT_ATTR_LOCAL_ADDR, conn.localAddress())
          .set(GrpcAttributes.ATTR_SECURITY_LEVEL, settings.trustManager() == null
              ? SecurityLevel.INTEGRITY : SecurityLevel.PRIVACY_AND_INTEGRITY)
          .set(GrpcAttributes.ATTR_CLIENT_EAG_ATTRS, eagAttributes)
          .set(dev.grpcquic.QuicAttributes.CONNECTION_STATS, conn::stats)
          .set(dev.grpcquic.QuicAttributes.RECEIVE_BUFFERED_BYTES, bufferedBytes::get)
          .build();
      l = listener;
      if (settings.connectionRegistry() != null) {
        settings.connectionRegistry().add(conn);
      }
    }
    control.start().whenComplete((ok, error) -> {
      if (error != null) {
        log.log(Level.FINE, "control stream failed", error);
      }
    });
    l.transportReady();
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
        return new FailingClientStream(shutdownStatus, RpcProgress.REFUSED, tracers);
      }
    }
    StatsTraceContext statsTraceCtx = StatsTraceContext.newClientContext(tracers,
        getAttributes(), headers);
    return new QuicClientStream(this, lock, authority, "/" + method.getFullMethodName(),
        userAgent, headers, callOptions, statsTraceCtx, settings.maxInboundMessageSize(),
        settings.maxInboundMetadataSize(), windows.streamWindow(), bufferedBytes);
  }

  /**
   * The call starts: open its QUIC stream, now or when one of the open streams ends (and the
   * engine may wait for the server's stream limit too).
   */
  void startStream(QuicClientStream stream) {
    synchronized (lock) {
      if (shutdownStatus != null || connection == null) {
        Status status = shutdownStatus != null ? shutdownStatus
            : Status.UNAVAILABLE.withDescription("transport not ready");
        stream.transportState().fail(status, RpcProgress.REFUSED, false);
        return;
      }
      streams.add(stream);
      if (streams.size() == 1) {
        listener.transportInUse(true);
      }
      if (openStreams.size() >= windows.maxStreams()) {
        waitingToOpen.add(stream);
        return;
      }
      openStreams.add(stream);
    }
    openStream(stream);
  }

  private void openStream(QuicClientStream stream) {
    QuicClientStream.TransportState state = stream.transportState();
    QuicConnection conn;
    Http3RequestStream http3;
    synchronized (lock) {
      conn = connection;
      http3 = state.newHttp3Stream(control);
    }
    conn.openStream(true, http3).whenComplete((quicStream, error) -> {
      synchronized (lock) {
        if (error != null) {
          if (!state.cancelled) {
            state.fail(Status.UNAVAILABLE.withDescription("could not open a stream")
                .withCause(error), RpcProgress.REFUSED, false);
          }
          streamFinished(stream);
          return;
        }
        if (quicStream.id() >= goawayId) {
          http3.attach(quicStream);
          state.fail(Status.UNAVAILABLE.withDescription("server sent GOAWAY"),
              RpcProgress.REFUSED, true);
          streamFinished(stream);
          return;
        }
        state.streamOpened(quicStream);
      }
    });
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
        // Not under this lock's caller's feet: opening calls into the engine and grpc-core.
        settings.blockingExecutor().execute(() -> openStream(next));
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
          waitingToOpen.contains(stream) ? RpcProgress.REFUSED : progress, true);
    }
    streams.clear();
    openStreams.clear();
    waitingToOpen.clear();
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
      failAll(status, RpcProgress.PROCESSED);
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
    SettableFuture<SocketStats> result = SettableFuture.create();
    result.set(null);
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
