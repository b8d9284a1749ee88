package dev.grpcquic.metrics;

import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionStats;
import dev.grpcquic.engine.EarlyDataStats;
import dev.grpcquic.engine.QuicClientEngine;
import dev.grpcquic.engine.QuicServerEngine;
import dev.grpcquic.http3.Http3ErrorCode;
import dev.grpcquic.transport.TransportKeys;
import io.grpc.ServerTransportFilter;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongUpDownCounter;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;

/**
 * The QUIC transport's own OpenTelemetry instruments (through the API only: the application
 * brings the SDK and its exporters). One instance per channel or server builder; the transports
 * reach it through the engine decorators it makes ({@link #instrument(QuicClientEngine)}, {@link
 * #instrument(QuicServerEngine)}), so it sees only what every engine reports through the {@code
 * dev.grpcquic.engine} interfaces. The names and attributes are listed in docs/operations.md.
 *
 * <p>Without an {@code OpenTelemetry} on the builders this class is never loaded, so the
 * transport runs without the OpenTelemetry API on the class path.
 */
public final class TransportMetrics {
  /** Written bytes that wait at least this long for the engine make a blocked episode. */
  static final long BLOCKED_THRESHOLD_NANOS = 1_000_000;
  static final String SCOPE = "dev.grpcquic";

  static final AttributeKey<String> NETWORK_TRANSPORT = AttributeKey.stringKey("network.transport");
  static final AttributeKey<String> ROLE = AttributeKey.stringKey("quic.role");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> PEER_ADDRESS = AttributeKey.stringKey("network.peer.address");
  static final AttributeKey<Long> PEER_PORT = AttributeKey.longKey("network.peer.port");
  static final AttributeKey<Long> LOCAL_PORT = AttributeKey.longKey("network.local.port");
  static final AttributeKey<String> CLOSE_REASON = AttributeKey.stringKey("quic.close.reason");
  static final AttributeKey<Boolean> CLOSED_BY_PEER = AttributeKey.booleanKey("quic.close.by_peer");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  static final AttributeKey<String> HANDSHAKE_TYPE = AttributeKey.stringKey("quic.handshake.type");
  static final AttributeKey<String> ZERO_RTT_OUTCOME =
      AttributeKey.stringKey("quic.zero_rtt.outcome");
  static final AttributeKey<String> DIRECTION = AttributeKey.stringKey("network.io.direction");

  /** Bucket boundaries for durations, in seconds: 0.1 ms to 100 s, as grpc-java's. */
  static final List<Double> DURATION_BUCKETS = List.of(0.0001, 0.0005, 0.001, 0.002, 0.005,
      0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0);

  private final boolean client;
  private final Attributes roleAttributes;
  private final LongCounter opened;
  private final LongCounter closed;
  private final LongUpDownCounter active;
  private final DoubleHistogram handshake;
  private final LongCounter zeroRtt;
  private final LongCounter migrations;
  private final LongCounter resets;
  private final DoubleHistogram blocked;
  private final Meter meter;

  /** Open connections, sampled by the observable instruments. */
  private final Set<InstrumentedConnection> live = ConcurrentHashMap.newKeySet();
  /** Packet counts of closed connections, by connection attributes (counters never go down). */
  private final Map<Attributes, long[]> retired = new ConcurrentHashMap<>();
  /** The servers' adaptive concurrency limiters (see {@link #admission}). */
  private final Set<dev.grpcquic.admission.AdaptiveConcurrencyLimiter> limiters =
      ConcurrentHashMap.newKeySet();
  private DoubleHistogram requestDuration;
  /** The server transports' received-but-unconsumed counts (QuicAttributes). */
  private final Set<LongSupplier> unconsumed = ConcurrentHashMap.newKeySet();

  private TransportMetrics(OpenTelemetry openTelemetry, boolean client) {
    this.client = client;
    this.roleAttributes = Attributes.of(NETWORK_TRANSPORT, "quic", ROLE,
        client ? "client" : "server");
    meter = openTelemetry.getMeter(SCOPE);
    opened = meter.counterBuilder("quic.connection.opened").setUnit("{connection}")
        .setDescription("QUIC connections made (client: handshake done; server: accepted)")
        .build();
    closed = meter.counterBuilder("quic.connection.closed").setUnit("{connection}")
        .setDescription("QUIC connections ended, by reason").build();
    active = meter.upDownCounterBuilder("quic.connection.active").setUnit("{connection}")
        .setDescription("QUIC connections open now").build();
    handshake = meter.histogramBuilder("quic.handshake.duration").setUnit("s")
        .setDescription("Client handshake time, from connect to handshake done")
        .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS).build();
    zeroRtt = meter.counterBuilder("quic.zero_rtt").setUnit("{connection}")
        .setDescription("Client connections that sent 0-RTT data, by the server's answer").build();
    migrations = meter.counterBuilder("quic.connection.migrations").setUnit("{migration}")
        .setDescription("Client connections moved to a new local address").build();
    resets = meter.counterBuilder("quic.stream.resets").setUnit("{stream}")
        .setDescription("RESET_STREAM sent (transmit) and received (receive), by HTTP/3 code")
        .build();
    blocked = meter.histogramBuilder("quic.stream.blocked.duration").setUnit("s")
        .setDescription("Episodes (>= 1 ms) in which written bytes waited for the engine to"
            + " accept them: the peer's flow control or the send buffer held them back")
        .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS).build();

    meter.gaugeBuilder("quic.connection.rtt").setUnit("s")
        .setDescription("Smoothed round-trip time of each open connection")
        .buildWithCallback(m -> {
          for (InstrumentedConnection c : live) {
            ConnectionStats s = stats(c);
            if (s != null) {
              m.record(s.smoothedRttMillis() / 1000.0, c.attributes);
            }
          }
        });
    meter.gaugeBuilder("quic.connection.congestion_window").ofLongs().setUnit("By")
        .setDescription("Congestion window of each open connection")
        .buildWithCallback(m -> {
          for (InstrumentedConnection c : live) {
            ConnectionStats s = stats(c);
            if (s != null && s.congestionWindowBytes() >= 0) {
              m.record(s.congestionWindowBytes(), c.attributes);
            }
          }
        });
    meter.counterBuilder("quic.packets.sent").setUnit("{packet}")
        .setDescription("QUIC packets sent").buildWithCallback(
            m -> observeTotal(m, ConnectionStats::packetsSent, 0));
    meter.counterBuilder("quic.packets.lost").setUnit("{packet}")
        .setDescription("QUIC packets declared lost").buildWithCallback(
            m -> observeTotal(m, ConnectionStats::packetsLost, 1));
    if (!client) {
      meter.counterBuilder("quic.connection.peer_address_changes").setUnit("{change}")
          .setDescription("Server connections that followed their client to a new address (NAT"
              + " rebinding, client migration); only from engines that report it")
          .buildWithCallback(m -> {
            Map<Attributes, Long> sums = new java.util.HashMap<>();
            synchronized (retired) {
              retired.forEach((a, totals) -> sums.merge(a, totals[2], Long::sum));
              for (InstrumentedConnection c : live) {
                int changes = peerAddressChanges(c);
                if (changes >= 0) {
                  sums.merge(base(c), (long) changes, Long::sum);
                }
              }
            }
            sums.forEach((a, v) -> m.record(v, a));
          });
    }
    meter.upDownCounterBuilder("quic.connection.unread_bytes").setUnit("By")
        .setDescription("Stream bytes received and held inside the engine, not yet read by the"
            + " transport").buildWithCallback(m -> {
              Map<Attributes, Long> sums = new java.util.HashMap<>();
              for (InstrumentedConnection c : live) {
                ConnectionStats s = stats(c);
                if (s != null) {
                  sums.merge(base(c), s.streamBytesUnread(), Long::sum);
                }
              }
              sums.forEach((a, v) -> m.record(v, a));
            });
    if (!client) {
      meter.upDownCounterBuilder("quic.server.unconsumed_bytes").setUnit("By")
          .setDescription("DATA received by the server transports and not yet consumed by the"
              + " application (what flow control bounds)").buildWithCallback(m -> {
                long sum = 0;
                for (LongSupplier s : unconsumed) {
                  sum += s.getAsLong();
                }
                m.record(sum, roleAttributes);
              });
      requestDuration = meter.histogramBuilder("quic.server.request.duration").setUnit("s")
          .setDescription("Request streams admitted by the adaptive concurrency limit, from"
              + " arrival to the end of the response: the latency the limit follows")
          .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS).build();
      meter.gaugeBuilder("quic.server.admission.limit").ofLongs().setUnit("{request}")
          .setDescription("Request streams the adaptive concurrency limit admits at once")
          .buildWithCallback(m -> {
            for (var limiter : limiters) {
              m.record(limiter.limit(), roleAttributes);
            }
          });
      meter.upDownCounterBuilder("quic.server.admission.in_flight").setUnit("{request}")
          .setDescription("Admitted request streams whose response has not ended")
          .buildWithCallback(m -> {
            for (var limiter : limiters) {
              m.record(limiter.inFlight(), roleAttributes);
            }
          });
      meter.counterBuilder("quic.server.admission.rejected").setUnit("{request}")
          .setDescription("Request streams refused with H3_REQUEST_REJECTED by the limit")
          .buildWithCallback(m -> {
            for (var limiter : limiters) {
              m.record(limiter.rejected(), roleAttributes);
            }
          });
    }
  }

  /**
   * Exports a server's adaptive concurrency limiter: its limit, calls in flight, refusals, and
   * each latency sample it takes (the same measurement, as quic.server.request.duration).
   */
  public void admission(dev.grpcquic.admission.AdaptiveConcurrencyLimiter limiter) {
    if (client) {
      throw new IllegalStateException("admission is a server's");
    }
    limiters.add(limiter);
    limiter.addSampleListener(nanos -> requestDuration.record(nanos / 1e9, roleAttributes));
  }

  /** Instruments for a channel's connections. */
  public static TransportMetrics forClient(OpenTelemetry openTelemetry) {
    return new TransportMetrics(openTelemetry, true);
  }

  /** Instruments for a server's connections. */
  public static TransportMetrics forServer(OpenTelemetry openTelemetry) {
    return new TransportMetrics(openTelemetry, false);
  }

  /** A client engine whose connections these instruments measure. */
  public QuicClientEngine instrument(QuicClientEngine engine) {
    return new InstrumentedClientEngine(this, engine);
  }

  /** A server engine whose connections these instruments measure. */
  public QuicServerEngine instrument(QuicServerEngine engine) {
    return new InstrumentedServerEngine(this, engine);
  }

  /**
   * For the server builder: follows each transport's count of received, unconsumed DATA (see
   * {@code QuicAttributes.RECEIVE_BUFFERED_BYTES}).
   */
  public ServerTransportFilter transportFilter() {
    return new ServerTransportFilter() {
      @Override
      public io.grpc.Attributes transportReady(io.grpc.Attributes attributes) {
        LongSupplier s = attributes.get(TransportKeys.RECEIVE_BUFFERED_BYTES);
        if (s != null) {
          unconsumed.add(s);
        }
        return attributes;
      }

      @Override
      public void transportTerminated(io.grpc.Attributes attributes) {
        LongSupplier s = attributes.get(TransportKeys.RECEIVE_BUFFERED_BYTES);
        if (s != null) {
          unconsumed.remove(s);
        }
      }
    };
  }

  // ---- attributes ----

  /** A client connection's attributes: the server it talks to and the path's remote end. */
  Attributes clientAttributes(ClientConnectionOptions options) {
    return roleAttributes.toBuilder()
        .put(SERVER_ADDRESS, options.host())
        .put(SERVER_PORT, (long) options.port())
        .build();
  }

  /** A server connection's attributes: the local endpoint. */
  Attributes serverAttributes(InetSocketAddress local) {
    var builder = roleAttributes.toBuilder();
    if (local != null) {
      builder.put(SERVER_ADDRESS, local.getAddress().getHostAddress())
          .put(SERVER_PORT, (long) local.getPort());
    }
    return builder.build();
  }

  /**
   * One connection's attributes for the per-connection gauges: a client connection is told apart
   * by its local port (each has its own socket), a server connection by the client's address.
   */
  Attributes perConnection(Attributes base, QuicConnectionAddresses addresses) {
    var builder = base.toBuilder();
    if (client && addresses.local() != null) {
      builder.put(LOCAL_PORT, (long) addresses.local().getPort());
    } else if (!client && addresses.remote() != null) {
      builder.put(PEER_ADDRESS, addresses.remote().getAddress().getHostAddress())
          .put(PEER_PORT, (long) addresses.remote().getPort());
    }
    return builder.build();
  }

  /** The local and remote address of a connection, either of them null when unknown. */
  record QuicConnectionAddresses(InetSocketAddress local, InetSocketAddress remote) {}

  /** A connection's attributes without what tells connections apart: what counters use. */
  private Attributes base(InstrumentedConnection c) {
    return c.baseAttributes;
  }

  // ---- events ----

  void connectionOpened(InstrumentedConnection connection) {
    live.add(connection);
    opened.add(1, base(connection));
    active.add(1, base(connection));
  }

  void connectionClosed(InstrumentedConnection connection, ConnectionCloseInfo info) {
    Attributes base = base(connection);
    boolean wasLive;
    ConnectionStats s = stats(connection);
    // Under the lock that sampling takes: the counters never see a connection twice or not at all.
    synchronized (retired) {
      wasLive = live.remove(connection);
      if (wasLive && s != null) {
        long[] totals = retired.computeIfAbsent(base, k -> new long[3]);
        totals[0] += s.packetsSent();
        totals[1] += s.packetsLost();
        totals[2] += Math.max(0, peerAddressChanges(connection));
      }
    }
    if (wasLive) {
      active.add(-1, base);
    }
    var attributes = base.toBuilder()
        .put(CLOSE_REASON, info.reason().name().toLowerCase(java.util.Locale.ROOT))
        .put(CLOSED_BY_PEER, info.byPeer());
    if (info.applicationErrorCode() >= 0) {
      attributes.put(ERROR_TYPE, Http3ErrorCode.name(info.applicationErrorCode()));
    } else if (info.transportErrorCode() >= 0) {
      attributes.put(ERROR_TYPE, "QUIC_0x" + Long.toHexString(info.transportErrorCode()));
    }
    closed.add(1, attributes.build());
  }

  /** A client handshake ended: {@code type} is cold, resumed or 0rtt; error null when it worked. */
  void handshake(long nanos, String type, Attributes connection, Throwable error) {
    var attributes = connection.toBuilder().put(HANDSHAKE_TYPE, type);
    if (error != null) {
      Throwable cause = error instanceof java.util.concurrent.CompletionException
          && error.getCause() != null ? error.getCause() : error;
      attributes.put(ERROR_TYPE, cause.getClass().getName());
    }
    handshake.record(nanos / 1e9, attributes.build());
  }

  void zeroRtt(EarlyDataStats.Outcome outcome, Attributes connection) {
    zeroRtt.add(1, connection.toBuilder()
        .put(ZERO_RTT_OUTCOME, outcome.name().toLowerCase(java.util.Locale.ROOT)).build());
  }

  void migrated(InstrumentedConnection connection) {
    migrations.add(1, base(connection));
  }

  void streamReset(boolean sent, long code) {
    resets.add(1, roleAttributes.toBuilder()
        .put(DIRECTION, sent ? "transmit" : "receive")
        .put(ERROR_TYPE, code < 0 ? "unknown" : Http3ErrorCode.name(code))
        .build());
  }

  void streamBlocked(long nanos) {
    if (nanos >= BLOCKED_THRESHOLD_NANOS) {
      blocked.record(nanos / 1e9, roleAttributes);
    }
  }

  // ---- sampling ----

  private void observeTotal(ObservableLongMeasurement m, ToLongFunction<ConnectionStats> value,
      int retiredIndex) {
    Map<Attributes, Long> sums = new java.util.HashMap<>();
    synchronized (retired) {
      retired.forEach((a, totals) -> sums.merge(a, totals[retiredIndex], Long::sum));
      for (InstrumentedConnection c : live) {
        ConnectionStats s = stats(c);
        if (s != null) {
          sums.merge(base(c), value.applyAsLong(s), Long::sum);
        }
      }
    }
    sums.forEach((a, v) -> m.record(v, a));
  }

  private static int peerAddressChanges(InstrumentedConnection c) {
    var delegate = c.delegate();
    return delegate == null ? -1 : delegate.peerAddressChanges();
  }

  private static ConnectionStats stats(InstrumentedConnection c) {
    var delegate = c.delegate();
    if (delegate == null) {
      return null;
    }
    try {
      return delegate.stats();
    } catch (RuntimeException e) {
      return null; // a connection that ended under us: no sample
    }
  }

  boolean isClient() {
    return client;
  }
}
