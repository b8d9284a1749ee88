package dev.grpcquic;

import dev.grpcquic.stats.QuicConnectionStats;
import dev.grpcquic.stats.QuicEarlyDataStats;
import dev.grpcquic.transport.TransportKeys;
import io.grpc.Attributes;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Attributes that the QUIC transports put on their transports, visible to interceptors through
 * {@code ClientCall.getAttributes()} and {@code ServerCall.getAttributes()}. Statistics come as
 * plain snapshots ({@link QuicConnectionStats}, {@link QuicEarlyDataStats}), the same on every
 * engine.
 */
public final class QuicAttributes {
  /**
   * Current statistics of the call's QUIC connection: RTT, packets sent and lost. The supplier
   * returns null while a client transport that resumes with 0-RTT has not connected yet.
   */
  public static final Attributes.Key<Supplier<QuicConnectionStats>> CONNECTION_STATS =
      TransportKeys.CONNECTION_STATS;

  /**
   * DATA bytes the call's connection holds received but not yet consumed by the application,
   * over all its calls. At most one flow-control window per call.
   */
  public static final Attributes.Key<LongSupplier> RECEIVE_BUFFERED_BYTES =
      TransportKeys.RECEIVE_BUFFERED_BYTES;

  /**
   * What became of the client connection's 0-RTT attempt: whether early data was sent and
   * accepted, how many calls went as early data, how many 0-RTT packets were sent. Client only.
   */
  public static final Attributes.Key<Supplier<QuicEarlyDataStats>> EARLY_DATA =
      TransportKeys.EARLY_DATA;

  /**
   * The protocol that carries the call, by its ALPN identifier: {@code "h3"} (HTTP/3 over QUIC) or,
   * on a channel with {@code tcpFallback}, {@code "h2"} (HTTP/2 over TCP + TLS). Client only.
   */
  public static final Attributes.Key<String> TRANSPORT_PROTOCOL =
      TransportKeys.TRANSPORT_PROTOCOL;

  private QuicAttributes() {}
}
