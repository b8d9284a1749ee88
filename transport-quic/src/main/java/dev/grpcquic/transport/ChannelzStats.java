package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionStats;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.TlsInfo;
import io.grpc.InternalChannelz.Security;
import io.grpc.InternalChannelz.SocketOptions;
import io.grpc.InternalChannelz.SocketStats;
import io.grpc.InternalChannelz.Tls;
import io.grpc.internal.TransportTracer;

/**
 * A QUIC connection as a channelz socket. Call counts come from grpc-core's {@link
 * TransportTracer}; QUIC has no TCP_INFO, so the engine's counters travel as "other" socket
 * options, the place where Netty puts what TCP_INFO has no field for.
 */
final class ChannelzStats {

  /** Option names, as channelz shows them. */
  static final String RTT_SMOOTHED = "quic.rtt_smoothed_ms";
  static final String RTT_VARIANCE = "quic.rtt_variance_ms";
  static final String RTT_LATEST = "quic.rtt_latest_ms";
  static final String PACKETS_SENT = "quic.packets_sent";
  static final String PACKETS_LOST = "quic.packets_lost";
  static final String BYTES_SENT = "quic.bytes_sent";
  static final String DATAGRAMS_SENT = "quic.datagrams_sent";
  static final String CWND = "quic.congestion_window_bytes";
  static final String BYTES_IN_FLIGHT = "quic.bytes_in_flight";

  private ChannelzStats() {}

  /** {@code connection} null: the connection does not exist yet (or any more). */
  static SocketStats of(TransportTracer tracer, QuicConnection connection) {
    if (connection == null) {
      return new SocketStats(tracer.getStats(), null, null,
          new SocketOptions.Builder().build(), null);
    }
    return new SocketStats(tracer.getStats(), connection.localAddress(),
        connection.remoteAddress(), options(connection.stats()), security(connection.tls()));
  }

  private static SocketOptions options(ConnectionStats s) {
    SocketOptions.Builder b = new SocketOptions.Builder()
        .addOption(RTT_SMOOTHED, s.smoothedRttMillis())
        .addOption(RTT_LATEST, s.latestRttMillis())
        .addOption(PACKETS_SENT, Long.toString(s.packetsSent()))
        .addOption(PACKETS_LOST, Long.toString(s.packetsLost()))
        .addOption(BYTES_SENT, Long.toString(s.bytesSent()))
        .addOption(DATAGRAMS_SENT, Long.toString(s.datagramsSent()));
    if (s.rttVarianceMillis() >= 0) {
      b.addOption(RTT_VARIANCE, s.rttVarianceMillis());
    }
    if (s.congestionWindowBytes() >= 0) {
      b.addOption(CWND, Long.toString(s.congestionWindowBytes()));
    }
    if (s.bytesInFlight() >= 0) {
      b.addOption(BYTES_IN_FLIGHT, Long.toString(s.bytesInFlight()));
    }
    return b.build();
  }

  private static Security security(TlsInfo tls) {
    if (tls == null || tls.cipherSuite() == null) {
      return null; // before the handshake's end, or an engine that cannot tell
    }
    return new Security(new Tls(tls.cipherSuite(), tls.localCertificate(),
        tls.remoteCertificate()));
  }
}
