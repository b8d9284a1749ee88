package dev.grpcquic.engine;

/**
 * What became of a client connection's 0-RTT attempt.
 *
 * @param outcome whether early data was sent, and whether the server accepted it
 * @param streams streams whose first bytes went as 0-RTT data
 * @param zeroRttPackets 0-RTT packets sent (resent data in 1-RTT packets is not counted)
 */
public record EarlyDataStats(Outcome outcome, int streams, long zeroRttPackets) {

  public static final EarlyDataStats NONE = new EarlyDataStats(Outcome.NOT_ATTEMPTED, 0, 0);

  public enum Outcome {
    /** No session ticket, or nothing to send early: a plain handshake. */
    NOT_ATTEMPTED,
    /** Sent early; the handshake is not done yet. */
    PENDING,
    /** The server accepted the 0-RTT data. */
    ACCEPTED,
    /** The server did not accept it (ticket unknown, expired, or refused): it was resent in 1-RTT. */
    REJECTED
  }
}
