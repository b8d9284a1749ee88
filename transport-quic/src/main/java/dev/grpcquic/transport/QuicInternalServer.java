package dev.grpcquic.transport;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicServerEndpoint;
import dev.grpcquic.engine.ServerEndpointOptions;
import io.grpc.Attributes;
import io.grpc.InternalChannelz.SocketStats;
import io.grpc.InternalInstrumented;
import io.grpc.InternalLogId;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.InternalServer;
import io.grpc.internal.ServerListener;
import io.grpc.internal.ServerStream;
import io.grpc.internal.ServerTransportListener;
import io.grpc.internal.SharedResourceHolder;
import java.io.IOException;
import java.net.SocketAddress;
import dev.grpcquic.http3.Http3ErrorCode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.annotation.concurrent.GuardedBy;
import java.util.concurrent.ScheduledExecutorService;
import java.util.logging.Level;
import java.util.logging.Logger;

/** A listening QUIC endpoint that turns each accepted connection into a {@link QuicServerTransport}. */
public final class QuicInternalServer implements InternalServer {
  private static final Logger log = Logger.getLogger(QuicInternalServer.class.getName());
  private final ServerTransportSettings settings;
  private final List<? extends ServerStreamTracer.Factory> tracerFactories;
  private final InternalLogId logId;
  private final Object lock = new Object();
  @GuardedBy("lock") private ScheduledExecutorService timer;
  /**
   * Set once by {@link #start}; volatile rather than guarded, because grpc-core calls {@link #start}
   * and {@link #getListenSocketAddress} holding its own lock, which {@link #accept} takes (in
   * listener.transportCreated) while it holds ours: taking ours there could deadlock.
   */
  private volatile QuicServerEndpoint endpoint;
  @GuardedBy("lock") private ServerListener listener;
  @GuardedBy("lock") private final Set<QuicServerTransport> transports = new HashSet<>();
  @GuardedBy("lock") private boolean shutdown;
  @GuardedBy("lock") private boolean closed;
  /** grpc-core's notices held back until the endpoint has closed (see {@link #shutdown}). */
  @GuardedBy("lock") private final List<Runnable> afterClose = new ArrayList<>();

  /**
   * @param settings what the server's transports share
   * @param tracerFactories grpc-core's stream tracers
   */
  public QuicInternalServer(ServerTransportSettings settings,
      List<? extends ServerStreamTracer.Factory> tracerFactories) {
    this.settings = settings;
    this.tracerFactories = tracerFactories;
    this.logId = InternalLogId.allocate(getClass(), String.valueOf(settings.bindAddress()));
  }

  @Override
  public void start(ServerListener serverListener) throws IOException {
    synchronized (lock) {
      this.listener = serverListener;
      this.timer = SharedResourceHolder.get(GrpcUtil.TIMER_SERVICE);
    }
    ServerEndpointOptions options = new ServerEndpointOptions(
        settings.bindAddress(), "h3", settings.keyStore(), settings.keyAlias(),
        settings.keyPassword(), settings.quicIdleTimeout(), settings.flowControlWindow(),
        // So that calls whose readers stall never hold up the others (see there).
        ConnectionWindows.connectionWindow(settings.flowControlWindow(),
            settings.maxConcurrentCallsPerConnection()),
        settings.maxConcurrentCallsPerConnection(), 3,
        settings.allowClientMigration(), settings.clientTrust(), settings.eventLoopThreads());
    QuicServerEndpoint bound;
    try {
      bound = settings.engine().bind(options, this::accept);
    } catch (IOException | RuntimeException e) {
      synchronized (lock) {
        SharedResourceHolder.release(GrpcUtil.TIMER_SERVICE, timer);
        timer = null;
      }
      throw e;
    }
    endpoint = bound;
  }

  private ConnectionHandler accept(QuicConnection connection) {
    synchronized (lock) {
      if (shutdown) {
        connection.close(Http3ErrorCode.H3_NO_ERROR, "server is shutting down");
        return new DiscardingConnectionHandler();
      }
      if (transports.size() >= settings.maxConnections()) {
        // kwik's connector has no admission hook (nor a way to send CONNECTION_REFUSED): close
        // the connection as soon as it is handed over, before any stream is accepted.
        log.log(Level.FINE, "refusing a connection from {0}: {1} connections already",
            new Object[] {connection.remoteAddress(), transports.size()});
        connection.close(Http3ErrorCode.H3_EXCESSIVE_LOAD, "too many connections");
        return new DiscardingConnectionHandler();
      }
      QuicServerTransport[] holder = new QuicServerTransport[1];
      QuicServerTransport transport = new QuicServerTransport(connection, settings,
          tracerFactories, timer, () -> transportTerminated(holder[0]));
      holder[0] = transport;
      transports.add(transport);
      transport.start(new LastNoticeAfterClose(transport, listener.transportCreated(transport)));
      return transport;
    }
  }

  private void transportTerminated(QuicServerTransport transport) {
    synchronized (lock) {
      transports.remove(transport);
      maybeClose();
    }
  }

  /**
   * Stops accepting connections and lets grpc-core shut down the transports. The endpoint (and its
   * socket) stays open until the last transport has terminated, so that draining calls can finish.
   * grpc-core counts the server terminated once it heard serverShutdown() and the end of every
   * transport; the last of these notices waits until the endpoint has closed, so that nothing of
   * the engine (threads, socket) outlives a true awaitTermination().
   */
  @Override
  public void shutdown() {
    ServerListener l;
    QuicServerEndpoint e;
    boolean idle;
    synchronized (lock) {
      if (shutdown) {
        return;
      }
      shutdown = true;
      l = listener;
      e = endpoint;
      idle = transports.isEmpty();
    }
    if (e != null) {
      // Like closing a TCP listener: new handshakes fail, so clients (and their load balancers)
      // go elsewhere at once instead of reaching a server that only closes again.
      e.stopAccepting();
    }
    synchronized (lock) {
      if (l != null && idle) {
        afterClose.add(l::serverShutdown);
        l = null;
      }
    }
    if (l != null) {
      // grpc-core shuts its transports down when it hears this.
      l.serverShutdown();
    }
    synchronized (lock) {
      maybeClose();
    }
  }

  /** A transport ended: grpc-core hears it now, or after the close if it was the last one. */
  private void transportEnded(QuicServerTransport transport, Runnable notice) {
    synchronized (lock) {
      transports.remove(transport);
      if (shutdown && transports.isEmpty() && !closed) {
        afterClose.add(notice);
        maybeClose();
        return;
      }
    }
    notice.run();
  }

  @GuardedBy("lock")
  private void maybeClose() {
    if (!shutdown || closed || !transports.isEmpty()) {
      return;
    }
    closed = true;
    QuicServerEndpoint toClose = endpoint;
    if (timer != null) {
      SharedResourceHolder.release(GrpcUtil.TIMER_SERVICE, timer);
      timer = null;
    }
    // Not on the caller's thread: that may be one of the engine's own, which closing would join.
    Thread closer = new Thread(() -> {
      if (toClose != null) {
        toClose.close();
      }
      List<Runnable> notices;
      synchronized (lock) {
        notices = new ArrayList<>(afterClose);
        afterClose.clear();
      }
      notices.forEach(Runnable::run);
    }, "grpc-quic-server-close");
    closer.setDaemon(true);
    closer.start();
  }

  /** grpc-core's listener of one transport, whose end {@link #transportEnded} may hold back. */
  private final class LastNoticeAfterClose implements ServerTransportListener {
    private final QuicServerTransport transport;
    private final ServerTransportListener delegate;

    LastNoticeAfterClose(QuicServerTransport transport, ServerTransportListener delegate) {
      this.transport = transport;
      this.delegate = delegate;
    }

    @Override
    public void streamCreated(ServerStream stream, String method, Metadata headers) {
      delegate.streamCreated(stream, method, headers);
    }

    @Override
    public Attributes transportReady(Attributes attributes) {
      return delegate.transportReady(attributes);
    }

    @Override
    public void transportTerminated() {
      transportEnded(transport, delegate::transportTerminated);
    }
  }

  @Override
  public SocketAddress getListenSocketAddress() {
    QuicServerEndpoint bound = endpoint;
    return bound != null ? bound.localAddress() : settings.bindAddress();
  }

  @Override
  public InternalInstrumented<SocketStats> getListenSocketStats() {
    return null;
  }

  @Override
  public List<? extends SocketAddress> getListenSocketAddresses() {
    return Collections.singletonList(getListenSocketAddress());
  }

  @Override
  public List<InternalInstrumented<SocketStats>> getListenSocketStatsList() {
    return Collections.emptyList();
  }

  @Override
  public String toString() {
    return "QuicInternalServer(" + getListenSocketAddress() + ")";
  }
}
