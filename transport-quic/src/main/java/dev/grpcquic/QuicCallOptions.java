package dev.grpcquic;

import dev.grpcquic.transport.TransportKeys;
import io.grpc.CallOptions;

/** Per-call options of the QUIC transport. */
public final class QuicCallOptions {

  /**
   * {@code true} lets this call travel as 0-RTT early data on a resumed connection even though
   * its method is neither safe nor idempotent. Early data can be replayed by an attacker who
   * captured it (the server may then run the call more than once): set this only for calls whose
   * repetition does no harm. Calls of methods marked {@code idempotency_level = IDEMPOTENT} or
   * {@code NO_SIDE_EFFECTS} are eligible without it. Default {@code false}.
   */
  public static final CallOptions.Key<Boolean> EARLY_DATA =
      TransportKeys.EARLY_DATA_CALL_OPTION;

  private QuicCallOptions() {}
}
