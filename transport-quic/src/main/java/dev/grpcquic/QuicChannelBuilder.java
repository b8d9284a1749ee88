package dev.grpcquic;

import dev.grpcquic.fallback.FallbackSettings;
import dev.grpcquic.fallback.NettyPresence;
import dev.grpcquic.fallback.NettyTcpTransports;
import dev.grpcquic.fallback.QuicPreferredTransportFactory;
import dev.grpcquic.transport.ClientTransportSettings;
import dev.grpcquic.transport.ClientWindowSizing;
import dev.grpcquic.transport.ConnectionWindows;
import dev.grpcquic.transport.PathMemory;
import dev.grpcquic.transport.QuicClientTransportFactory;
import dev.grpcquic.transport.SessionTicketStore;
import io.grpc.ChannelCredentials;
import io.grpc.ForwardingChannelBuilder2;
import io.grpc.ManagedChannelBuilder;
import io.grpc.internal.ClientTransportFactory;
import io.grpc.internal.GrpcUtil;
import io.grpc.internal.ManagedChannelImplBuilder;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import dev.grpcquic.tls.PemFiles;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509TrustManager;

/**
 * Builds a {@link io.grpc.ManagedChannel} whose calls travel as HTTP/3 request streams over QUIC
 * (kwik). Use it where you would use {@code NettyChannelBuilder}; stubs, interceptors, deadlines,
 * retries, name resolution and load balancing stay grpc-java's own.
 *
 * <pre>{@code
 * ManagedChannel channel = QuicChannelBuilder.forAddress("localhost", 8443)
 *     .trustCertificates(new File("certs/out/ca.pem"))
 *     .build();
 * }</pre>
 */
public final class QuicChannelBuilder extends ForwardingChannelBuilder2<QuicChannelBuilder> {
  private static final Logger LOG = Logger.getLogger(QuicChannelBuilder.class.getName());
  /**
   * Receive window of each stream on the first connection to an authority (later ones size it
   * from the path): the BDP of 100 Mbit/s at 80 ms RTT.
   */
  public static final int DEFAULT_FLOW_CONTROL_WINDOW = 1024 * 1024;
  /** Default lower bound of windows sized from the path's bandwidth-delay product. */
  public static final int DEFAULT_MIN_FLOW_CONTROL_WINDOW = 64 * 1024;
  /** Default upper bound of windows sized from the path's bandwidth-delay product. */
  public static final int DEFAULT_MAX_FLOW_CONTROL_WINDOW = 16 * 1024 * 1024;
  /** Default limit of streams one connection opens at once. */
  public static final int DEFAULT_MAX_CONCURRENT_CALLS = 100;
  /** Default of {@link #quietPathProbe}. */
  public static final Duration DEFAULT_QUIET_PATH_PROBE = Duration.ofSeconds(1);
  static final int HTTPS_PORT = 443;

  private final ManagedChannelImplBuilder delegate;
  private X509TrustManager trustManager;
  private boolean trustSet;
  /** 0: windows from the BDP. */
  private int fixedFlowControlWindow;
  private int initialFlowControlWindow = DEFAULT_FLOW_CONTROL_WINDOW;
  private int minFlowControlWindow = DEFAULT_MIN_FLOW_CONTROL_WINDOW;
  private int maxFlowControlWindow = DEFAULT_MAX_FLOW_CONTROL_WINDOW;
  /** 0: the default, 2 x calls x (fixed or initial) window. */
  private long connectionMemoryBudget;
  private int maxConcurrentCallsPerConnection = DEFAULT_MAX_CONCURRENT_CALLS;
  private int maxInboundMetadataSize = GrpcUtil.DEFAULT_MAX_HEADER_LIST_SIZE;
  private int maxInboundMessageSize = GrpcUtil.DEFAULT_MAX_MESSAGE_SIZE;
  private Duration connectTimeout = Duration.ofSeconds(20);
  private Duration quicIdleTimeout = Duration.ofSeconds(30);
  private Duration keepAliveTime = Duration.ZERO;
  private Duration quietPathProbe = DEFAULT_QUIET_PATH_PROBE;
  private Executor transportExecutor;
  private X509ExtendedKeyManager clientKeyManager;
  private QuicMigrationController migrationController;
  private QuicEngine engine = QuicEngines.kwik();
  private Path keyLogFile;
  private QuicSessionTicketStore sessionTicketStore;
  private boolean sessionTicketStoreSet;
  private boolean zeroRtt = true;
  private boolean tcpFallback;
  private Duration tcpFallbackDelay = FallbackSettings.DEFAULT_RACE_DELAY;
  private Duration quicBrokenFor = FallbackSettings.DEFAULT_BROKEN_FOR;
  private Duration quicBrokenForMax = FallbackSettings.DEFAULT_BROKEN_FOR_MAX;
  /** The transport's own instruments; null: none (OpenTelemetry need not be on the class path). */
  private dev.grpcquic.metrics.TransportMetrics transportMetrics;

  private QuicChannelBuilder(String target, ChannelCredentials credentials) {
    delegate = new ManagedChannelImplBuilder(target, credentials, null,
        this::buildTransportFactory, () -> HTTPS_PORT);
  }

  /** A channel to {@code host:port}. */
  public static QuicChannelBuilder forAddress(String host, int port) {
    return forTarget(GrpcUtil.authorityFromHostAndPort(host, port));
  }

  /** A channel to a target that grpc-java's name resolvers understand ({@code dns:///host:port}). */
  public static QuicChannelBuilder forTarget(String target) {
    return new QuicChannelBuilder(target, null);
  }

  /** For {@code Grpc.newChannelBuilder(target, QuicChannelCredentials...)}. */
  static QuicChannelBuilder forTarget(String target, QuicChannelCredentials credentials) {
    QuicChannelBuilder builder = new QuicChannelBuilder(target, credentials);
    builder.trustManager = credentials.trustManager();
    builder.trustSet = true;
    if (credentials.tcpFallback()) {
      builder.tcpFallback(true);
    }
    return builder;
  }

  @Override
  protected ManagedChannelBuilder<?> delegate() {
    return delegate;
  }

  /** Checks the server's certificate with this trust manager. */
  public QuicChannelBuilder trustManager(X509TrustManager trustManager) {
    if (trustManager == null) {
      throw new NullPointerException("trustManager");
    }
    this.trustManager = trustManager;
    this.trustSet = true;
    return this;
  }

  /** Checks the server's certificate against the CA certificates in this PEM file. */
  public QuicChannelBuilder trustCertificates(File caPem) throws IOException {
    return trustManager(QuicChannelCredentials.trustCertificates(caPem).trustManager());
  }

  /**
   * Accepts any server certificate: no protection against an active attacker. For tests and
   * development only; logs a warning.
   */
  public QuicChannelBuilder insecureSkipCertificateVerification() {
    this.trustManager = QuicChannelCredentials.insecureSkipCertificateVerification().trustManager();
    this.trustSet = true;
    return this;
  }

  /**
   * The client certificate chain (leaf first) and its unencrypted private key, as PEM files,
   * offered when a server asks for one (mutual TLS). A kwik server never asks; other servers may.
   */
  public QuicChannelBuilder clientCertificate(File certChainPem, File privateKeyPem)
      throws IOException {
    try {
      KeyStore keyStore = PemFiles.keyStore(certChainPem.toPath(), privateKeyPem.toPath(),
          "client", new char[0]);
      KeyManagerFactory factory =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(keyStore, new char[0]);
      for (KeyManager manager : factory.getKeyManagers()) {
        if (manager instanceof X509ExtendedKeyManager) {
          this.clientKeyManager = (X509ExtendedKeyManager) manager;
          return this;
        }
      }
      throw new IOException("the JDK offers no X509ExtendedKeyManager");
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use the client certificate: " + e.getMessage(), e);
    }
  }

  /** HTTP/3 runs only over QUIC with TLS 1.3: there is no plaintext mode. */
  @Override
  public QuicChannelBuilder usePlaintext() {
    throw new UnsupportedOperationException(
        "QUIC always uses TLS 1.3; for tests, use insecureSkipCertificateVerification()");
  }

  @Override
  public QuicChannelBuilder useTransportSecurity() {
    return this;
  }

  /**
   * A fixed receive window for each stream, in bytes (QUIC's initial_max_stream_data), on every
   * connection: turns off windows sized from the path's bandwidth-delay product.
   */
  public QuicChannelBuilder flowControlWindow(int bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("flowControlWindow must be positive");
    }
    this.fixedFlowControlWindow = bytes;
    return this;
  }

  /**
   * Stream receive window of the first connection to an authority, while windows are sized from
   * the path (default 1 MiB, within the bounds). Turns sizing from the path back on.
   */
  public QuicChannelBuilder initialFlowControlWindow(int bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("initialFlowControlWindow must be positive");
    }
    this.initialFlowControlWindow = bytes;
    this.fixedFlowControlWindow = 0;
    return this;
  }

  /**
   * Bounds of stream windows sized from the path: each connection after the first to an authority
   * gets twice the bandwidth-delay product (smoothed RTT x peak delivery rate) that the channel's
   * last connection to it measured, clamped to [min, max] (default 64 KiB to 16 MiB), and then
   * fitted to {@link #connectionMemoryBudget}. Turns sizing from the path back on.
   */
  public QuicChannelBuilder flowControlWindowBounds(int min, int max) {
    if (min < ConnectionWindows.FLOOR || max < min) {
      throw new IllegalArgumentException("need " + ConnectionWindows.FLOOR + " <= min <= max");
    }
    this.minFlowControlWindow = min;
    this.maxFlowControlWindow = max;
    this.fixedFlowControlWindow = 0;
    return this;
  }

  /**
   * What the streams of one connection may make this client hold of received, unread data when
   * their applications all stop reading (each holds up to two stream windows). Enforced by the
   * sizes: stream window = min(window, budget / (2 x maxConcurrentCallsPerConnection)), and when
   * that would be below 16 KiB, fewer concurrent calls. Default: 2 x maxConcurrentCallsPerConnection
   * x the fixed or initial window (200 MiB with the defaults), so by default the budget caps
   * windows sized from the path at that window; raise it (or lower the call limit) to let them
   * grow to the upper bound.
   */
  public QuicChannelBuilder connectionMemoryBudget(long bytes) {
    if (bytes < 2L * ConnectionWindows.FLOOR) {
      throw new IllegalArgumentException(
          "connectionMemoryBudget must be at least " + 2 * ConnectionWindows.FLOOR);
    }
    this.connectionMemoryBudget = bytes;
    return this;
  }

  /**
   * Calls one connection carries at once; more wait for one to end (so does a call beyond the
   * server's own limit). With the window, it sizes the connection's receive window: each call may
   * hold one window of received data its application has not read yet.
   */
  public QuicChannelBuilder maxConcurrentCallsPerConnection(int calls) {
    if (calls <= 0) {
      throw new IllegalArgumentException("maxConcurrentCallsPerConnection must be positive");
    }
    this.maxConcurrentCallsPerConnection = calls;
    return this;
  }

  @Override
  public QuicChannelBuilder maxInboundMessageSize(int bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("maxInboundMessageSize must be >= 0");
    }
    this.maxInboundMessageSize = bytes;
    return this;
  }

  /** Largest response header list accepted (RFC 9114 measure: name + value + 32 per field). */
  @Override
  public QuicChannelBuilder maxInboundMetadataSize(int bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("maxInboundMetadataSize must be positive");
    }
    this.maxInboundMetadataSize = bytes;
    return this;
  }

  /** QUIC's max_idle_timeout: a connection silent this long is closed (the lower of both peers'). */
  public QuicChannelBuilder quicIdleTimeout(long time, TimeUnit unit) {
    this.quicIdleTimeout = Duration.ofNanos(unit.toNanos(time));
    return this;
  }

  /** Sends a QUIC PING when the connection has been quiet this long, to keep it and its NAT alive. */
  @Override
  public QuicChannelBuilder keepAliveTime(long time, TimeUnit unit) {
    this.keepAliveTime = Duration.ofNanos(unit.toNanos(time));
    return this;
  }

  /**
   * With calls in flight and nothing received from the server for this long, the client sends a
   * QUIC PING. After a NAT rebinding the server can only reach the client again once the client
   * sends; a client that is only waiting for data would otherwise stay silent until the idle
   * timeout. Default 1 second; zero turns it off. Costs one small packet (and its
   * acknowledgement) per quiet interval on calls that receive nothing for long periods.
   */
  public QuicChannelBuilder quietPathProbe(long time, TimeUnit unit) {
    if (time < 0) {
      throw new IllegalArgumentException("quietPathProbe must not be negative");
    }
    this.quietPathProbe = Duration.ofNanos(unit.toNanos(time));
    return this;
  }

  /** Handshake time limit. */
  public QuicChannelBuilder connectTimeout(long time, TimeUnit unit) {
    this.connectTimeout = Duration.ofNanos(unit.toNanos(time));
    return this;
  }

  /**
   * kwik engine: runs its blocking work (kwik's stream reads and writes, stream creation and
   * handshakes block a thread each), instead of the daemon threads the engine starts for each
   * connection and ends with it. Its threads should be daemons: kwik's connection threads take
   * the daemon flag of the thread that connects. The quiche engine never blocks and has no use
   * for it. gRPC's call executor is {@code executor(...)}, which this does not change.
   */
  public QuicChannelBuilder transportExecutor(Executor executor) {
    this.transportExecutor = executor;
    return this;
  }

  /**
   * Lets {@code controller.migrate()} move this channel's live QUIC connections to new local UDP
   * ports (client migration), for instance after the device changed networks. One controller may
   * serve several channels. Without it the channel still survives NAT rebinding on the path: that
   * needs nothing from the client. The server must allow migration (a grpc-quic server does by
   * default). See {@link QuicMigrationController}.
   */
  public QuicChannelBuilder migrationController(QuicMigrationController controller) {
    this.migrationController = controller;
    return this;
  }

  /**
   * Appends the TLS secrets of every connection of this channel to {@code file} in the NSS key
   * log format, so that Wireshark or tshark can decrypt captured traffic ({@code tshark -o
   * tls.keylog_file:FILE}). Whoever can read the file can read every call of those connections:
   * for debugging only, never in production. Off by default; the environment variable
   * SSLKEYLOGFILE is not read (set this option from it if you want that convention). A new file is
   * created readable by its owner only. Logs a warning when the channel is built.
   */
  public QuicChannelBuilder keyLogFile(Path file) {
    this.keyLogFile = file;
    return this;
  }

  /**
   * Where the channel keeps the servers' session tickets, so that new connections resume the TLS
   * session (and can send safe calls as 0-RTT early data). Default: in memory, per channel, a few
   * tickets per authority. Pass a store of your own to keep tickets across channels or restarts;
   * {@code null} turns resumption off (every connection makes a full handshake).
   */
  public QuicChannelBuilder sessionTicketStore(QuicSessionTicketStore store) {
    this.sessionTicketStore = store;
    this.sessionTicketStoreSet = true;
    return this;
  }

  /**
   * Whether a resumed connection sends its first calls as 0-RTT early data (default on). Only
   * calls that are safe to replay go early: methods marked idempotent or side-effect free
   * ({@code MethodDescriptor.isIdempotent()} / {@code isSafe()}), and calls with
   * {@link QuicCallOptions#EARLY_DATA}. Off: connections still resume, calls wait for the handshake.
   */
  public QuicChannelBuilder zeroRtt(boolean enabled) {
    this.zeroRtt = enabled;
    return this;
  }

  /**
   * "QUIC preferred": each new connection starts QUIC; when its handshake is not done after
   * {@link #tcpFallbackDelay} (or fails at once), HTTP/2 over TCP + TLS (grpc-java's Netty
   * transport, which must be on the class path; same trust settings, never plaintext) starts beside
   * it, and whichever is ready first carries the calls. A QUIC endpoint that failed is skipped
   * (TCP only) for {@link #quicBrokenBackoff}; a server's {@code alt-svc: h3} moves the channel back
   * to QUIC once QUIC connects again (calls in flight finish where they are). Each call's protocol
   * is in {@link QuicAttributes#TRANSPORT_PROTOCOL}. 0-RTT is off on such a channel (a 0-RTT
   * transport reports ready before its handshake, which would end the race before it starts);
   * resumption stays on. Off by default. See docs/fallback.md.
   */
  public QuicChannelBuilder tcpFallback(boolean enabled) {
    if (enabled) {
      NettyPresence.require("tcpFallback");
    }
    this.tcpFallback = enabled;
    return this;
  }

  /** How long a new connection's QUIC handshake runs alone before TCP starts (default 300 ms). */
  public QuicChannelBuilder tcpFallbackDelay(long time, TimeUnit unit) {
    if (time < 0) {
      throw new IllegalArgumentException("tcpFallbackDelay must not be negative");
    }
    this.tcpFallbackDelay = Duration.ofNanos(unit.toNanos(time));
    return this;
  }

  /**
   * With {@link #tcpFallback}: how long a QUIC endpoint that failed counts as broken (new
   * connections then use TCP alone), default 5 minutes, doubled on each further failure up to
   * {@code max} (default 1 hour). A QUIC handshake that succeeds clears it.
   */
  public QuicChannelBuilder quicBrokenBackoff(long initial, long max, TimeUnit unit) {
    if (initial <= 0 || max < initial) {
      throw new IllegalArgumentException("need 0 < initial <= max");
    }
    this.quicBrokenFor = Duration.ofNanos(unit.toNanos(initial));
    this.quicBrokenForMax = Duration.ofNanos(unit.toNanos(max));
    return this;
  }

  /**
   * The QUIC implementation: {@link QuicEngines#kwik()} (pure Java, the default) or
   * {@link QuicEngines#quiche()} (native, faster; needs Netty's QUIC codec and its native library
   * for the platform, which {@code build()} checks). Calls, options and the wire are the same.
   */
  public QuicChannelBuilder engine(QuicEngine engine) {
    this.engine = java.util.Objects.requireNonNull(engine, "engine");
    return this;
  }

  /**
   * Records the QUIC transport's own metrics (connections, handshake time by cold / resumed /
   * 0-RTT, 0-RTT outcome, RTT, congestion window, packets, migrations, stream resets,
   * flow-control stalls, unread bytes; see docs/operations.md) through this OpenTelemetry
   * instance's meter provider. Needs io.opentelemetry:opentelemetry-api on the class path (an
   * optional dependency). For grpc-java's per-call metrics, use
   * {@code GrpcOpenTelemetry.configureChannelBuilder} as well: it works unchanged on QUIC.
   */
  public QuicChannelBuilder openTelemetry(io.opentelemetry.api.OpenTelemetry openTelemetry) {
    this.transportMetrics = dev.grpcquic.metrics.TransportMetrics.forClient(openTelemetry);
    return this;
  }

  private ClientTransportFactory buildTransportFactory() {
    engine.checkAvailable();
    if (migrationController != null && !engine.supports(QuicEngine.Feature.CLIENT_MIGRATION)) {
      throw new IllegalStateException("the " + engine.name() + " engine cannot migrate client"
          + " connections: use QuicEngines.kwik() with a migrationController");
    }
    if (keyLogFile != null) {
      LOG.log(Level.WARNING, "TLS key log enabled: the secrets of this channel's connections go to"
          + " {0}; anyone who can read it can decrypt the traffic", keyLogFile);
    }
    X509TrustManager trust = trustSet ? trustManager : QuicChannelCredentials.defaultTrustManager();
    int baseWindow = fixedFlowControlWindow > 0 ? fixedFlowControlWindow
        : Math.max(minFlowControlWindow, Math.min(maxFlowControlWindow, initialFlowControlWindow));
    long budget = connectionMemoryBudget > 0 ? connectionMemoryBudget
        : ConnectionWindows.budgetFor(baseWindow, maxConcurrentCallsPerConnection);
    ClientWindowSizing sizing = new ClientWindowSizing(fixedFlowControlWindow, baseWindow,
        minFlowControlWindow, maxFlowControlWindow, maxConcurrentCallsPerConnection, budget,
        new PathMemory(minFlowControlWindow / 2));
    var clientEngine = engine.newClientEngine(transportExecutor);
    if (transportMetrics != null) {
      clientEngine = transportMetrics.instrument(clientEngine);
    }
    ClientTransportSettings settings = new ClientTransportSettings(clientEngine, trust,
        sizing, maxInboundMetadataSize,
        maxInboundMessageSize, connectTimeout, quicIdleTimeout, keepAliveTime,
        migrationController == null ? null : migrationController.registry(), clientKeyManager,
        quietPathProbe,
        tickets(sessionTicketStoreSet ? sessionTicketStore : QuicSessionTicketStore.inMemory(4)),
        zeroRtt && !tcpFallback, keyLogFile);
    QuicClientTransportFactory quic = new QuicClientTransportFactory(settings);
    if (!tcpFallback) {
      return quic;
    }
    return new QuicPreferredTransportFactory(quic,
        NettyTcpTransports.create(trust, clientKeyManager, maxInboundMessageSize,
            maxInboundMetadataSize, connectTimeout, keepAliveTime),
        new FallbackSettings(tcpFallbackDelay, quicBrokenFor, quicBrokenForMax));
  }

  /** The application's store as the transports see it; null (no resumption) stays null. */
  private static SessionTicketStore tickets(QuicSessionTicketStore store) {
    if (store == null) {
      return null;
    }
    return new SessionTicketStore() {
      @Override
      public void put(String authority, byte[] ticket) {
        store.put(authority, ticket);
      }

      @Override
      public byte[] take(String authority) {
        return store.take(authority);
      }
    };
  }
}
