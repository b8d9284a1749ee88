package dev.grpcquic.engine;

/**
 * Why a connection ended.
 *
 * @param reason the kind of end
 * @param byPeer whether the peer closed it
 * @param applicationErrorCode the HTTP/3 code of an application close, or -1
 * @param transportErrorCode the QUIC transport error code, or -1
 * @param description the peer's or the engine's text, never null
 */
public record ConnectionCloseInfo(
    Reason reason, boolean byPeer, long applicationErrorCode, long transportErrorCode,
    String description) {

  /** The kinds of end a gRPC transport tells apart. */
  public enum Reason {
    /** CONNECTION_CLOSE sent or received. */
    CLOSED,
    /** Nothing heard within the idle timeout. */
    IDLE_TIMEOUT,
    /** Lost for another reason: stateless reset, handshake failure, I/O error. */
    LOST
  }

  public static ConnectionCloseInfo localClose(long applicationErrorCode, String description) {
    return new ConnectionCloseInfo(Reason.CLOSED, false, applicationErrorCode, -1, description);
  }

  @Override
  public String toString() {
    return reason + (byPeer ? " by peer" : "")
        + (applicationErrorCode >= 0 ? " app=0x" + Long.toHexString(applicationErrorCode) : "")
        + (transportErrorCode >= 0 ? " transport=0x" + Long.toHexString(transportErrorCode) : "")
        + (description.isEmpty() ? "" : ": " + description);
  }
}
