package dev.grpcquic.transport;

import dev.grpcquic.stats.QuicConnectionStats;
import dev.grpcquic.stats.QuicEarlyDataStats;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The attribute and call-option keys the transports set and read. The public API hands out the
 * same key objects ({@code QuicAttributes}, {@code QuicCallOptions}); they are made here so that
 * the transports need nothing from the public package.
 */
public final class TransportKeys {

  /** Statistics of the call's connection; the supplier returns null before a 0-RTT connect. */
  public static final Attributes.Key<Supplier<QuicConnectionStats>> CONNECTION_STATS =
      Attributes.Key.create("dev.grpcquic.connection-stats");

  /** DATA bytes the call's connection holds received but not yet consumed by the application. */
  public static final Attributes.Key<LongSupplier> RECEIVE_BUFFERED_BYTES =
      Attributes.Key.create("dev.grpcquic.receive-buffered-bytes");

  /** What became of the client connection's 0-RTT attempt. Client only. */
  public static final Attributes.Key<Supplier<QuicEarlyDataStats>> EARLY_DATA =
      Attributes.Key.create("dev.grpcquic.early-data");

  /** The call's protocol by its ALPN identifier, "h3" or "h2". Client only. */
  public static final Attributes.Key<String> TRANSPORT_PROTOCOL =
      Attributes.Key.create("dev.grpcquic.transport-protocol");

  /** A call that may go as 0-RTT early data although its method is neither safe nor idempotent. */
  public static final CallOptions.Key<Boolean> EARLY_DATA_CALL_OPTION =
      CallOptions.Key.createWithDefault("dev.grpcquic.early-data", false);

  private TransportKeys() {}
}
