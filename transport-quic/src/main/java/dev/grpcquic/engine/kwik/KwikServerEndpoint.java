package dev.grpcquic.engine.kwik;

import dev.grpcquic.engine.ConnectionAcceptor;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.QuicServerEndpoint;
import dev.grpcquic.engine.ServerEndpointOptions;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.agent15.engine.TlsServerEngineFactory;
import tech.kwik.core.QuicConnection;
import tech.kwik.core.QuicStream;
import tech.kwik.core.server.ApplicationProtocolConnection;
import tech.kwik.core.server.ApplicationProtocolConnectionFactory;
import tech.kwik.core.server.ServerConnectionConfig;
import tech.kwik.core.server.ServerConnector;
import tech.kwik.core.server.impl.ServerConnectorImpl;
import tech.kwik.core.server.impl.ServerConnectionImpl;

/**
 * A kwik {@link ServerConnector} on its own socket.
 *
 * <p>kwik hazards handled here:
 * <ul>
 *   <li>{@code withPort(0)} is refused: the endpoint binds its own {@link GuardedDatagramSocket}
 *       (4 MiB socket buffers) and hands it over with {@code withSocket}.</li>
 *   <li>kwik's JVM-ending {@code exit(9)} on a receive IOException: the guarded socket never throws one, and
 *       the connector is closed before the socket (kwik's own close stops its receiver first).</li>
 *   <li>Non-daemon threads: the connector is built on a daemon thread, so the threads it creates by
 *       inheritance (server receive loop, then per-connection receiver and sender threads) are
 *       daemons; its shared scheduled executor and agent15's TLS session registry use the JDK
 *       default (non-daemon) factory and outlive kwik's close, so close() stops both and waits
 *       for their threads.</li>
 *   <li>close() waiting up to 30 s: the connector's {@code close(Duration)} is called with
 *       {@link #CLOSE_WAIT}.</li>
 *   <li>Settings clamped to the factory's ApplicationProtocolSettings: the factory reports exactly
 *       the configured windows and stream counts as its min and max, and the configuration sets
 *       every buffer and count explicitly.</li>
 * </ul>
 */
public final class KwikServerEndpoint implements QuicServerEndpoint {

  private static final Logger LOG = Logger.getLogger(KwikServerEndpoint.class.getName());
  /**
   * How long close() lets kwik keep closed connections in their closing period (3 PTO: answering
   * late packets with CONNECTION_CLOSE again). Every connection has sent its CONNECTION_CLOSE by
   * then; waiting longer only delayed a server's exit (up to 2 s, then the wait was 2 s).
   */
  static final Duration CLOSE_WAIT = Duration.ofMillis(250);
  /** How long close() waits for each of kwik's executor threads to end. */
  private static final Duration STOP_WAIT = Duration.ofSeconds(1);
  /** Numbers each endpoint's threads. */
  private static final AtomicInteger ENDPOINTS = new AtomicInteger();

  private final ServerConnector connector;
  private final GuardedDatagramSocket socket;
  private final MigrationTracker tracker;
  private final InetSocketAddress localAddress;
  private final Set<KwikConnection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Runs the connections' blocking work (kwik's stream I/O, stream creation). */
  private final Executor executor;
  /** The endpoint's own threads for it when it was given no executor; shut down by close(). */
  private final ExecutorService ownedExecutor;

  private KwikServerEndpoint(ServerConnector connector, GuardedDatagramSocket socket,
      MigrationTracker tracker, Executor given) {
    this.connector = connector;
    this.socket = socket;
    this.tracker = tracker;
    this.ownedExecutor = given != null ? null
        : KwikExecutors.newBlockingExecutor("grpc-quic-kwik-server-" + ENDPOINTS.incrementAndGet());
    this.executor = given != null ? given : ownedExecutor;
    this.localAddress = (InetSocketAddress) socket.getLocalSocketAddress();
  }

  /**
   * Binds, starts kwik's connector and accepts connections for {@code
   * options.applicationProtocol()}; the connections' blocking work runs on daemon threads of the
   * endpoint's own, which end with it.
   */
  public static KwikServerEndpoint start(ServerEndpointOptions options, ConnectionAcceptor acceptor)
      throws IOException {
    return start(options, acceptor, null);
  }

  /**
   * As {@link #start(ServerEndpointOptions, ConnectionAcceptor)}, with the connections' blocking
   * work on {@code executor} (null: the endpoint's own threads).
   */
  public static KwikServerEndpoint start(ServerEndpointOptions options, ConnectionAcceptor acceptor,
      Executor executor) throws IOException {
    if (options.clientTrust() != null) {
      throw new IOException("kwik's server cannot ask for client certificates (mutual TLS)");
    }
    if (options.eventLoopThreads() > 0) {
      throw new IOException("kwik's server has no event loops to spread (it runs threads per"
          + " connection): eventLoopThreads needs the quiche engine");
    }
    KwikAssertions.ensureApplied();
    KwikPrivateAccess.reportOnce();
    GuardedDatagramSocket socket = new GuardedDatagramSocket(options.bindAddress());
    KwikClientEngine.enlargeBuffers(socket);
    MigrationTracker tracker = options.allowClientMigration() ? new MigrationTracker() : null;
    socket.setMigrationTracker(tracker);
    ServerConnector connector;
    try {
      connector = buildOnDaemonThread(options, socket, tracker);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
    nameExecutorThreads(connector);
    KwikServerEndpoint endpoint = new KwikServerEndpoint(connector, socket, tracker, executor);
    connector.registerApplicationProtocol(options.applicationProtocol(),
        endpoint.new Factory(options, acceptor));
    connector.start();
    return endpoint;
  }

  private static ServerConnector buildOnDaemonThread(
      ServerEndpointOptions options, GuardedDatagramSocket socket, MigrationTracker tracker)
      throws IOException {
    int streamWindow = (int) Math.min(Integer.MAX_VALUE, options.streamReceiveWindow());
    ServerConnectionConfig config = ServerConnectionConfig.builder()
        .maxIdleTimeout((int) Math.min(Integer.MAX_VALUE, options.idleTimeout().toMillis()))
        .maxConnectionBufferSize(Math.max(options.connectionReceiveWindow(), streamWindow))
        .maxBidirectionalStreamBufferSize(streamWindow)
        .maxUnidirectionalStreamBufferSize(streamWindow)
        .maxOpenPeerInitiatedBidirectionalStreams(options.maxPeerBidirectionalStreams())
        .maxOpenPeerInitiatedUnidirectionalStreams(options.maxPeerUnidirectionalStreams())
        .retryRequired(false)
        // MigrationTracker reads short-header destination connection IDs of this length.
        .connectionIdLength(MigrationTracker.CID_LENGTH)
        .build();
    AtomicReference<Object> result = new AtomicReference<>();
    Thread builder = new Thread(() -> {
      try {
        result.set(ServerConnector.builder()
            .withSocket(socket)
            .withKeyStore(options.keyStore(), options.keyAlias(), options.keyPassword())
            .withConfiguration(config)
            .withLogger(new JulKwikLogger("server: ", tracker, null))
            .build());
      } catch (Exception | Error e) {
        result.set(e);
      }
    }, "grpc-quic-kwik-connector-builder");
    builder.setDaemon(true);
    builder.start();
    try {
      builder.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while starting the QUIC server", e);
    }
    Object built = result.get();
    if (built instanceof ServerConnector connector) {
      return connector;
    }
    if (built instanceof IOException e) {
      throw e;
    }
    throw new IOException("kwik server connector failed to start", (Throwable) built);
  }

  @Override
  public InetSocketAddress localAddress() {
    return localAddress;
  }

  /**
   * kwik's connector then answers each new Initial with CONNECTION_CLOSE(CONNECTION_REFUSED), so
   * a client fails fast and backs off instead of completing a handshake with a server that would
   * only close again (a load balancer would pick it meanwhile). The switch is on the impl class.
   */
  @Override
  public void stopAccepting() {
    if (connector instanceof ServerConnectorImpl impl) {
      impl.stopAcceptingNewConnections();
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    // Connector first: it stops accepting, closes every connection, stops its receiver and only
    // then closes the socket. The socket is closed last, by us, in case the connector failed.
    try {
      closeConnector();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "closing the kwik connector failed", e);
    }
    shutdownScheduledExecutor();
    disposeTlsSessions();
    socket.close();
    connections.clear();
    if (ownedExecutor != null) {
      ownedExecutor.shutdown(); // its tasks end as the closed connections wake their I/O
    }
  }

  private void closeConnector() {
    try {
      if (KwikPrivateAccess.CONNECTOR_CLOSE_WAIT.active()) {
        KwikPrivateAccess.CONNECTOR_CLOSE.invoke(connector, CLOSE_WAIT);
        return;
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(Level.FINE, "close(Duration) not available; using close()", e);
    }
    connector.close();
  }

  /**
   * Stops the connector's shared scheduled executor and waits for its thread: a non-daemon thread
   * of the JDK's default factory, which kwik's close leaves running (with a 30 s cleanup task).
   */
  private void shutdownScheduledExecutor() {
    stopExecutor(field(connector, KwikPrivateAccess.CONNECTOR_TIMER));
  }

  /**
   * Ends agent15's TLS session registry (the server's 0-RTT tickets): its cleanup timer is another
   * non-daemon thread of the JDK's default factory, and kwik's close never disposes of it.
   */
  private void disposeTlsSessions() {
    Object factory = field(connector, KwikPrivateAccess.CONNECTOR_TLS_FACTORY);
    if (factory instanceof TlsServerEngineFactory tls) {
      Object registry = field(tls, KwikPrivateAccess.TLS_SESSION_REGISTRY);
      tls.dispose();
      stopExecutor(field(registry, KwikPrivateAccess.TLS_SESSION_TIMER));
    }
  }

  /**
   * Names the threads of the connector's two single-thread executors that use the JDK's default
   * factory ("pool-N-thread-M", non-daemon; the JDK's wrapper hides their factory): a task on each
   * renames its thread. They stay non-daemon while the server runs; close() stops both.
   */
  private static void nameExecutorThreads(ServerConnector connector) {
    nameThread(field(connector, KwikPrivateAccess.CONNECTOR_TIMER), "grpc-quic-kwik-server-timer");
    Object factory = field(connector, KwikPrivateAccess.CONNECTOR_TLS_FACTORY);
    Object registry = field(factory, KwikPrivateAccess.TLS_SESSION_REGISTRY);
    nameThread(field(registry, KwikPrivateAccess.TLS_SESSION_TIMER), "grpc-quic-kwik-tls-sessions");
  }

  private static void nameThread(Object executor, String name) {
    if (executor instanceof ExecutorService service) {
      try {
        service.execute(() -> Thread.currentThread().setName(name));
      } catch (RuntimeException e) {
        LOG.log(Level.FINE, "cannot name a kwik executor thread " + name, e);
      }
    }
  }

  private static void stopExecutor(Object executor) {
    if (executor instanceof ExecutorService service) {
      service.shutdownNow();
      try {
        if (!service.awaitTermination(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
          LOG.log(Level.FINE, "a kwik executor thread did not stop within {0}", STOP_WAIT);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** {@code owner}'s value of a private kwik field, or null (no owner, or not of that class). */
  private static Object field(Object owner, KwikPrivateAccess.PrivateField field) {
    if (owner == null) {
      return null;
    }
    if (field.declaredBy(owner)) {
      try {
        return field.get(owner);
      } catch (ReflectiveOperationException | RuntimeException e) {
        // logged below
      }
    }
    LOG.log(Level.FINE, "kwik field {0} not reachable in {1}",
        new Object[] {field, owner.getClass().getName()});
    return null;
  }

  /** For tests: the socket kwik receives on. */
  GuardedDatagramSocket socket() {
    return socket;
  }

  /** For tests: tracks client addresses, or null when migration is off. */
  MigrationTracker migrationTracker() {
    return tracker;
  }

  int connectionCount() {
    return connections.size();
  }

  /** Creates our connection for each kwik connection; also kwik's source of the settings. */
  private final class Factory implements ApplicationProtocolConnectionFactory {
    private final ServerEndpointOptions options;
    private final ConnectionAcceptor acceptor;
    private final int streamWindow;

    Factory(ServerEndpointOptions options, ConnectionAcceptor acceptor) {
      this.options = options;
      this.acceptor = acceptor;
      this.streamWindow = (int) Math.min(Integer.MAX_VALUE, options.streamReceiveWindow());
    }

    /** On the connection's receiver thread, possibly before the handshake completes. */
    @Override
    public ApplicationProtocolConnection createConnection(String protocol, QuicConnection quic) {
      if (closed.get()) {
        quic.close();
        return null;
      }
      if (HalfRttData.enableIfEarly(quic)) {
        LOG.log(Level.FINE, "0-RTT connection: answers may leave before the handshake completes");
      }
      KwikConnection connection = new KwikConnection(quic, executor, null, localAddress);
      connection.setLocalCertificate(serverCertificate(options));
      connection.setStreamReceiveWindow(streamWindow);
      connections.add(connection);
      ConnectionHandler handler;
      try {
        handler = acceptor.onConnection(connection);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "connection acceptor threw; closing the connection", e);
        handler = null;
      }
      if (handler == null) {
        connections.remove(connection);
        quic.close();
        return null;
      }
      connection.setHandler(handler);
      MigrationTracker.Path path = tracker != null && quic instanceof ServerConnectionImpl server
          ? tracker.register(server) : null;
      if (path != null) {
        connection.setPeerAddressChanges(path::moves);
      }
      // Without the removal the set would keep every connection ever accepted.
      connection.onTerminated(() -> {
        connections.remove(connection);
        if (path != null) {
          tracker.unregister(path);
        }
      });
      return new ApplicationProtocolConnection() {
        @Override
        public void acceptPeerInitiatedStream(QuicStream stream) {
          connection.onPeerStream(stream);
        }
      };
    }

    @Override
    public int maxConcurrentPeerInitiatedUnidirectionalStreams() {
      return options.maxPeerUnidirectionalStreams();
    }

    @Override
    public int maxConcurrentPeerInitiatedBidirectionalStreams() {
      return options.maxPeerBidirectionalStreams();
    }

    @Override
    public int minUnidirectionalStreamReceiverBufferSize() {
      return streamWindow;
    }

    @Override
    public long maxUnidirectionalStreamReceiverBufferSize() {
      return streamWindow;
    }

    @Override
    public int minBidirectionalStreamReceiverBufferSize() {
      return streamWindow;
    }

    @Override
    public long maxBidirectionalStreamReceiverBufferSize() {
      return streamWindow;
    }
  }

  /** The server's leaf certificate, for diagnostics; null when the key store will not say. */
  private static java.security.cert.Certificate serverCertificate(ServerEndpointOptions options) {
    try {
      return options.keyStore().getCertificate(options.keyAlias());
    } catch (java.security.KeyStoreException e) {
      return null;
    }
  }
}
