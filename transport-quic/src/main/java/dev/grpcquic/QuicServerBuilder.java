package dev.grpcquic;

import dev.grpcquic.fallback.AltSvc;
import dev.grpcquic.fallback.DualInternalServer;
import dev.grpcquic.fallback.NettyPresence;
import dev.grpcquic.fallback.TcpServerSettings;
import dev.grpcquic.transport.ConnectionWindows;
import dev.grpcquic.transport.QuicInternalServer;
import dev.grpcquic.transport.ServerTransportSettings;
import io.grpc.ForwardingServerBuilder;
import io.grpc.ServerBuilder;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.InternalServer;
import io.grpc.internal.ServerImplBuilder;
import io.grpc.ServerStreamTracer;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.security.KeyStore;
import javax.net.ssl.X509TrustManager;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Builds a gRPC {@link io.grpc.Server} that serves HTTP/3 over QUIC (kwik). Use it where you would
 * use {@code NettyServerBuilder}; services, interceptors and executors stay grpc-java's own.
 *
 * <pre>{@code
 * Server server = QuicServerBuilder.forPort(8443)
 *     .useTransportSecurity(new File("server.pem"), new File("server.key"))
 *     .addService(new GreeterImpl())
 *     .build()
 *     .start();
 * }</pre>
 */
public final class QuicServerBuilder extends ForwardingServerBuilder<QuicServerBuilder> {
  /** Default receive window of each stream. */
  public static final int DEFAULT_FLOW_CONTROL_WINDOW = 1024 * 1024;
  /** Default limit of concurrent calls (request streams) per connection. */
  public static final int DEFAULT_MAX_CONCURRENT_CALLS = 100;
  /** Default limit of connections served at once. */
  public static final int DEFAULT_MAX_CONNECTIONS = 1000;
  /** Default time a request stream has to deliver its HEADERS frame. */
  public static final Duration DEFAULT_REQUEST_HEADERS_TIMEOUT = Duration.ofSeconds(10);

  private final ServerImplBuilder delegate;
  private final InetSocketAddress address;
  private QuicServerCredentials credentials;
  private int flowControlWindow = DEFAULT_FLOW_CONTROL_WINDOW;
  private int maxInboundMetadataSize = GrpcUtil.DEFAULT_MAX_HEADER_LIST_SIZE;
  private int maxInboundMessageSize = GrpcUtil.DEFAULT_MAX_MESSAGE_SIZE;
  private int maxConcurrentCallsPerConnection = DEFAULT_MAX_CONCURRENT_CALLS;
  /** 0: the default, 2 x calls x window. */
  private long connectionMemoryBudget;
  private Duration quicIdleTimeout = Duration.ofSeconds(30);
  private Executor transportExecutor;
  private boolean allowClientMigration = true;
  private int maxConnections = DEFAULT_MAX_CONNECTIONS;
  private Duration requestHeadersTimeout = DEFAULT_REQUEST_HEADERS_TIMEOUT;
  private QuicEngine engine = QuicEngines.kwik();
  private X509TrustManager clientTrust;
  private int eventLoopThreads;
  private boolean alsoServeTcp;
  private Duration altSvcMaxAge = AltSvc.DEFAULT_MAX_AGE;
  /** Null: every request stream is admitted (up to maxConcurrentCallsPerConnection). */
  private dev.grpcquic.admission.AdaptiveConcurrencyLimit adaptiveConcurrencyLimit;
  /** The transport's own instruments; null: none (OpenTelemetry need not be on the class path). */
  private dev.grpcquic.metrics.TransportMetrics transportMetrics;

  private QuicServerBuilder(InetSocketAddress address) {
    this.address = address;
    this.delegate = new ServerImplBuilder(this::buildTransportServer);
  }

  /** Listens on every local address at this UDP port (0 picks a free port). */
  public static QuicServerBuilder forPort(int port) {
    return new QuicServerBuilder(new InetSocketAddress(port));
  }

  /** Listens on one address (0 as port picks a free port). */
  public static QuicServerBuilder forAddress(InetSocketAddress address) {
    return new QuicServerBuilder(address);
  }

  /** For {@code Grpc.newServerBuilderForPort(port, QuicServerCredentials...)}. */
  static QuicServerBuilder forPort(int port, QuicServerCredentials credentials) {
    QuicServerBuilder builder = forPort(port);
    builder.credentials = credentials;
    return builder;
  }

  @Override
  protected ServerBuilder<?> delegate() {
    return delegate;
  }

  /** The certificate chain (leaf first) and its unencrypted private key, as PEM files. */
  @Override
  public QuicServerBuilder useTransportSecurity(File certChain, File privateKey) {
    try {
      credentials = QuicServerCredentials.create(certChain, privateKey);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** The certificate chain (leaf first) and its unencrypted private key, as PEM streams. */
  @Override
  public QuicServerBuilder useTransportSecurity(InputStream certChain, InputStream privateKey) {
    try {
      credentials = QuicServerCredentials.create(certChain, privateKey);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** The key entry {@code alias} of a key store (EC P-256/384/521 or RSA). */
  public QuicServerBuilder keyStore(KeyStore keyStore, String alias, char[] password) {
    credentials = QuicServerCredentials.create(keyStore, alias, password);
    return this;
  }

  /**
   * Mutual TLS: every client must present a certificate issued by one of the CAs in this PEM
   * file, or its handshake fails. The quiche engine only ({@link QuicEngines#quiche()}): kwik's
   * server never asks for client certificates, and {@code build()} says so.
   */
  public QuicServerBuilder requireClientAuth(File clientCaPem) throws IOException {
    return requireClientAuth(QuicChannelCredentials.trustCertificates(clientCaPem).trustManager());
  }

  /** Mutual TLS, with client certificates checked by {@code trustManager} (quiche engine). */
  public QuicServerBuilder requireClientAuth(X509TrustManager trustManager) {
    this.clientTrust = java.util.Objects.requireNonNull(trustManager, "trustManager");
    return this;
  }

  /** Use {@link #requireClientAuth(File)}: the server must know which CAs to accept. */
  public QuicServerBuilder requireClientAuth() {
    throw new UnsupportedOperationException("name the client CAs: requireClientAuth(File caPem)"
        + " or requireClientAuth(X509TrustManager), with engine(QuicEngines.quiche())");
  }

  /** Initial receive window of each stream, in bytes. */
  public QuicServerBuilder flowControlWindow(int bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("flowControlWindow must be positive");
    }
    this.flowControlWindow = bytes;
    return this;
  }

  @Override
  public QuicServerBuilder maxInboundMessageSize(int bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("maxInboundMessageSize must be >= 0");
    }
    this.maxInboundMessageSize = bytes;
    return this;
  }

  @Override
  public QuicServerBuilder maxInboundMetadataSize(int bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("maxInboundMetadataSize must be positive");
    }
    this.maxInboundMetadataSize = bytes;
    return this;
  }

  /** Calls one connection may have in flight; more wait on the client (QUIC MAX_STREAMS). */
  public QuicServerBuilder maxConcurrentCallsPerConnection(int calls) {
    if (calls <= 0) {
      throw new IllegalArgumentException("maxConcurrentCallsPerConnection must be positive");
    }
    this.maxConcurrentCallsPerConnection = calls;
    return this;
  }

  /**
   * Connections served at once. A connection beyond it is closed as soon as kwik hands it over,
   * with H3_EXCESSIVE_LOAD: its calls fail UNAVAILABLE on the client, which may try again later.
   * Each connection costs about six kwik threads and up to two stream windows per concurrent call.
   */
  public QuicServerBuilder maxConnections(int connections) {
    if (connections <= 0) {
      throw new IllegalArgumentException("maxConnections must be positive");
    }
    this.maxConnections = connections;
    return this;
  }

  /**
   * How long a request stream may take, from its opening, to deliver a complete HEADERS frame. A
   * stream still without one then is reset with H3_REQUEST_REJECTED (nothing was processed), which
   * frees its MAX_STREAMS slot: a peer that opens streams and trickles or withholds their headers
   * (slowloris) cannot hold the slots for ever while it keeps its connection alive.
   */
  public QuicServerBuilder requestHeadersTimeout(long time, TimeUnit unit) {
    if (time <= 0) {
      throw new IllegalArgumentException("requestHeadersTimeout must be positive");
    }
    this.requestHeadersTimeout = Duration.ofNanos(unit.toNanos(time));
    return this;
  }

  /**
   * What the calls of one connection may make the server hold of received, unread request data
   * when their applications all stop reading (each holds up to two stream windows). Enforced by
   * the sizes: stream window = min(flowControlWindow, budget / (2 x
   * maxConcurrentCallsPerConnection)), and when that would be below 16 KiB, a lower stream limit
   * (MAX_STREAMS). Default: 2 x maxConcurrentCallsPerConnection x flowControlWindow (200 MiB with
   * the defaults).
   */
  public QuicServerBuilder connectionMemoryBudget(long bytes) {
    if (bytes < 2L * ConnectionWindows.FLOOR) {
      throw new IllegalArgumentException(
          "connectionMemoryBudget must be at least " + 2 * ConnectionWindows.FLOOR);
    }
    this.connectionMemoryBudget = bytes;
    return this;
  }

  /** QUIC's max_idle_timeout: a connection silent this long is closed. */
  public QuicServerBuilder quicIdleTimeout(long time, TimeUnit unit) {
    this.quicIdleTimeout = Duration.ofNanos(unit.toNanos(time));
    return this;
  }

  /**
   * Whether a connection may follow its client to a new address: NAT rebinding (the client's
   * address or port changes under it) and client migration (the client moves to a new port or
   * network). On by default. On kwik, a connection moves only after kwik authenticated a packet
   * from the new address that is the newest the connection has seen and is not a probe; until the
   * client acknowledges a packet sent to the new address, the server sends there at most three
   * times what it received from it (plus 6000 bytes). Off: kwik's own behaviour, where every
   * packet from an address other than the first is dropped and the connection dies on a
   * rebinding. On quiche, a new port of the same IP address is followed once quiche accepted a
   * packet from it (without path validation) and a new IP address by quiche's own validated path
   * migration; off, datagrams from a new port are dropped and {@code disable_active_migration} is
   * sent, but quiche still follows a new IP address. See docs/migration.md.
   */
  public QuicServerBuilder allowClientMigration(boolean allow) {
    this.allowClientMigration = allow;
    return this;
  }

  /**
   * Event-loop threads of this server (quiche engine only): {@code threads} UDP sockets bound to
   * the same port with SO_REUSEPORT, each served by a thread of its own, so that a server uses
   * more than one core. The kernel spreads new clients over the sockets by their address; each
   * connection stays on the thread it started on, because its connection IDs name its socket and
   * a datagram that arrives on another socket (after the client's address changed) is handed to
   * that thread. Unset: one socket on the quiche engine's shared event loops (one thread per core,
   * shared with the process's quiche channels). Needs SO_REUSEPORT for UDP; the spreading is
   * Linux's (its kernel balances datagrams over such sockets, macOS's need not); where the JDK has
   * no SO_REUSEPORT for UDP (Windows), {@code start()} fails and says so. Other processes of the
   * same user can bind the port too while it is open. On kwik, {@code build()}
   * refuses it: kwik runs threads per connection and has no event loops to spread.
   */
  public QuicServerBuilder eventLoopThreads(int threads) {
    if (threads < 1 || threads > 1024) {
      throw new IllegalArgumentException("eventLoopThreads must be 1 to 1024: " + threads);
    }
    this.eventLoopThreads = threads;
    return this;
  }

  /**
   * The QUIC implementation: {@link QuicEngines#kwik()} (pure Java, the default) or
   * {@link QuicEngines#quiche()} (native, faster; needs Netty's QUIC codec and its native library
   * for the platform, which {@code build()} checks). Clients of either engine can call servers of
   * either.
   */
  public QuicServerBuilder engine(QuicEngine engine) {
    this.engine = java.util.Objects.requireNonNull(engine, "engine");
    return this;
  }

  /**
   * Also serves the same services over HTTP/2 + TLS on the TCP port with the same number as the
   * UDP port (grpc-java's Netty transport, which must be on the class path), for clients whose
   * network blocks UDP. Off by default. Named like the listeners it adds, not like the client's
   * fallback, because the server falls back to nothing: it serves both protocols at once, with one
   * certificate, one set of services, interceptors and executor, and the limits set here
   * (message and metadata size, calls per connection, flow-control window, client certificates
   * required). {@code shutdown()} drains both (GOAWAY on each); {@code getListenSockets()} lists
   * the UDP address, then the TCP one. HTTP/2 responses carry {@code alt-svc: h3=":PORT";
   * ma=SECONDS} so that clients that came over TCP learn QUIC is there (see
   * {@link #altSvcMaxAge}). See docs/fallback.md.
   */
  public QuicServerBuilder alsoServeTcp(boolean enabled) {
    if (enabled) {
      NettyPresence.require("alsoServeTcp");
    }
    this.alsoServeTcp = enabled;
    return this;
  }

  /**
   * How long clients may remember the {@code alt-svc: h3} advice of the HTTP/2 side ({@code ma},
   * RFC 7838); default 24 hours, the RFC's default. Zero sends no {@code alt-svc} header.
   */
  public QuicServerBuilder altSvcMaxAge(long time, TimeUnit unit) {
    if (time < 0) {
      throw new IllegalArgumentException("altSvcMaxAge must not be negative");
    }
    this.altSvcMaxAge = Duration.ofSeconds(unit.toSeconds(time));
    return this;
  }

  /**
   * kwik engine: runs its blocking work (kwik's stream reads and writes block a thread each),
   * instead of the daemon threads the engine starts for the server and ends when it shuts down.
   * The quiche engine never blocks and has no use for it. gRPC's call executor is
   * {@code executor(...)}, which this does not change.
   */
  public QuicServerBuilder transportExecutor(Executor executor) {
    this.transportExecutor = executor;
    return this;
  }

  /**
   * Records the QUIC transport's own metrics (connections, handshakes, RTT, congestion window,
   * packets, stream resets, flow-control stalls, unread bytes; see docs/operations.md) through
   * this OpenTelemetry instance's meter provider. Needs io.opentelemetry:opentelemetry-api on the
   * class path (an optional dependency). For grpc-java's per-call metrics, use
   * {@code GrpcOpenTelemetry.configureServerBuilder} as well: it works unchanged on QUIC.
   */
  public QuicServerBuilder openTelemetry(io.opentelemetry.api.OpenTelemetry openTelemetry) {
    boolean first = transportMetrics == null;
    transportMetrics = dev.grpcquic.metrics.TransportMetrics.forServer(openTelemetry);
    if (first) {
      // Added once; it reports to whichever instruments were set last.
      delegate.addTransportFilter(new io.grpc.ServerTransportFilter() {
        @Override
        public io.grpc.Attributes transportReady(io.grpc.Attributes attributes) {
          return transportMetrics.transportFilter().transportReady(attributes);
        }

        @Override
        public void transportTerminated(io.grpc.Attributes attributes) {
          transportMetrics.transportFilter().transportTerminated(attributes);
        }
      });
    }
    return this;
  }

  /**
   * Admits calls up to a limit that follows measured latency (AIMD against a target, see
   * docs/operations.md): while the given percentile of call latency stays under {@code
   * latencyTarget} and the limit is in use, it rises; when latency goes above the target, it falls.
   * Above the limit a new call is refused before any processing (its stream is reset with
   * H3_REQUEST_REJECTED), which a grpc-java client retries transparently, on another server if it
   * has one. The limit is over all the server's connections. Off by default.
   */
  public QuicServerBuilder adaptiveConcurrencyLimit(Duration latencyTarget, double percentile) {
    return adaptiveConcurrencyLimit(
        dev.grpcquic.admission.AdaptiveConcurrencyLimit.of(latencyTarget, percentile));
  }

  /** Like {@link #adaptiveConcurrencyLimit(Duration, double)}, with every setting given. */
  public QuicServerBuilder adaptiveConcurrencyLimit(
      dev.grpcquic.admission.AdaptiveConcurrencyLimit limit) {
    this.adaptiveConcurrencyLimit = limit;
    return this;
  }

  private InternalServer buildTransportServer(
      List<? extends ServerStreamTracer.Factory> tracerFactories,
      io.grpc.MetricRecorder metricRecorder) {
    if (credentials == null) {
      throw new IllegalStateException("QUIC needs TLS: call useTransportSecurity(certChain, key)"
          + " or keyStore(...) first");
    }
    engine.checkAvailable();
    if (clientTrust != null && !engine.supports(QuicEngine.Feature.CLIENT_AUTH)) {
      throw new IllegalStateException("the " + engine.name() + " engine's server cannot ask for"
          + " client certificates: use engine(QuicEngines.quiche()) with requireClientAuth, or"
          + " authenticate clients with call credentials");
    }
    if (eventLoopThreads > 0 && !engine.supports(QuicEngine.Feature.SERVER_EVENT_LOOP_THREADS)) {
      throw new IllegalStateException("the " + engine.name() + " engine's server has no event"
          + " loops to spread (it runs threads per connection): eventLoopThreads needs"
          + " engine(QuicEngines.quiche())");
    }
    long budget = connectionMemoryBudget > 0 ? connectionMemoryBudget
        : ConnectionWindows.budgetFor(flowControlWindow, maxConcurrentCallsPerConnection);
    ConnectionWindows windows =
        ConnectionWindows.fit(flowControlWindow, maxConcurrentCallsPerConnection, budget);
    var serverEngine = engine.newServerEngine(transportExecutor);
    if (transportMetrics != null) {
      serverEngine = transportMetrics.instrument(serverEngine);
    }
    if (adaptiveConcurrencyLimit != null) {
      // Around the metrics' wrapper, so after it on the way in: the metrics see refusals as resets.
      var limiter = new dev.grpcquic.admission.AdaptiveConcurrencyLimiter(adaptiveConcurrencyLimit);
      serverEngine = new dev.grpcquic.admission.AdmissionServerEngine(limiter, serverEngine);
      if (transportMetrics != null) {
        transportMetrics.admission(limiter);
      }
    }
    var quicEngine = serverEngine;
    DualInternalServer.Side quicSide = bind -> new QuicInternalServer(
        new ServerTransportSettings(quicEngine,
            bind, credentials.keyStore(), credentials.alias(), credentials.password(),
            windows.streamWindow(), maxInboundMetadataSize, maxInboundMessageSize,
            windows.maxStreams(), quicIdleTimeout, allowClientMigration,
            maxConnections, requestHeadersTimeout, clientTrust, eventLoopThreads),
        tracerFactories);
    if (alsoServeTcp) {
      TcpServerSettings tcp = new TcpServerSettings(credentials.keyStore(), credentials.alias(),
          credentials.password(), flowControlWindow, maxInboundMetadataSize,
          maxInboundMessageSize, maxConcurrentCallsPerConnection, altSvcMaxAge, clientTrust);
      return new DualInternalServer(address, quicSide,
          DualInternalServer.netty(tcp, tracerFactories, metricRecorder), altSvcMaxAge);
    }
    try {
      return quicSide.at(address);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // never: making the QUIC side binds nothing
    }
  }
}
