package dev.grpcquic;

import dev.grpcquic.engine.ConnectionStats;
import io.grpc.Attributes;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Attributes that the QUIC transports put on their transports, visible to interceptors through
 * {@code ClientCall.getAttributes()} and {@code ServerCall.getAttributes()}.
 */
public final class QuicAttributes {
  /**
   * Current statistics of the call's QUIC connection: RTT, packets sent and lost. The supplier
   * returns null while a client transport that resumes with 0-RTT has not connected yet.
   */
  public static final Attributes.Key<Supplier<ConnectionStats>> CONNECTION_STATS =
      Attributes.Key.create("dev.grpcquic.connection-stats");

  /**
   * DATA bytes the call's connection holds received but not yet consumed by the application,
   * over all its calls. At most one flow-control window per call.
   */
  public static final Attributes.Key<LongSupplier> RECEIVE_BUFFERED_BYTES =
      Attributes.Key.create("dev.grpcquic.receive-buffered-bytes");

  /**
   * What became of the client connection's 0-RTT attempt: whether early data was sent and
   * accepted, how many calls went as early data, how many 0-RTT packets were sent. Client only.
   */
  public static final Attributes.Key<Supplier<dev.grpcquic.engine.EarlyDataStats>> EARLY_DATA =
      Attributes.Key.create("dev.grpcquic.early-data");

  /**
   * The protocol that carries the call, by its ALPN identifier: {@code "h3"} (HTTP/3 over QUIC) or,
   * on a channel with {@code tcpFallback}, {@code "h2"} (HTTP/2 over TCP + TLS). Client only.
   */
  public static final Attributes.Key<String> TRANSPORT_PROTOCOL =
      Attributes.Key.create("dev.grpcquic.transport-protocol");

  private QuicAttributes() {}
}
