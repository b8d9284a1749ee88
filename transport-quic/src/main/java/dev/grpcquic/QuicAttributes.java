package dev.grpcquic;

import dev.grpcquic.engine.ConnectionStats;
import io.grpc.Attributes;
import java.util.function.Supplier;

/**
 * Attributes that the QUIC transports put on their transports, visible to interceptors through
 * {@code ClientCall.getAttributes()} and {@code ServerCall.getAttributes()}.
 */
public final class QuicAttributes {
  /** Current statistics of the call's QUIC connection: RTT, packets sent and lost. */
  public static final Attributes.Key<Supplier<ConnectionStats>> CONNECTION_STATS =
      Attributes.Key.create("dev.grpcquic.connection-stats");

  private QuicAttributes() {}
}
