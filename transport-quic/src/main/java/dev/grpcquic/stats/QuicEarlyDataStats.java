package dev.grpcquic.stats;

/**
 * What became of a client connection's 0-RTT attempt, as {@code QuicAttributes.EARLY_DATA}
 * reports it.
 *
 * @param outcome whether early data was sent, and whether the server accepted it
 * @param streams streams whose first bytes went as 0-RTT data
 * @param zeroRttPackets 0-RTT packets sent (resent data in 1-RTT packets is not counted)
 */
public record QuicEarlyDataStats(Outcome outcome, int streams, long zeroRttPackets) {

  public enum Outcome {
    /** No session ticket, or nothing to send early: a plain handshake. */
    NOT_ATTEMPTED,
    /** Sent early; the handshake is not done yet. */
    PENDING,
    /** The server accepted the 0-RTT data. */
    ACCEPTED,
    /** The server did not accept it (ticket unknown, expired, refused): it was resent in 1-RTT. */
    REJECTED
  }
}
