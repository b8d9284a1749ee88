package dev.grpcquic.engine;

/** Events of one connection. Must not block: they come from engine threads. */
public interface ConnectionHandler {

  /**
   * The peer opened a stream. Returns the handler that receives its events; the engine delivers no
   * data before this returns and before the handler calls {@link QuicStream#request}.
   */
  StreamHandler onPeerStream(QuicStream stream);

  /** The connection ended (closed by either side, idle timeout, or lost). Called once. */
  void onClosed(ConnectionCloseInfo info);

  /**
   * Client connections: the server sent a session ticket (RFC 8446 §4.6.1), serialized by the
   * engine; a later connection to the same server may resume with it (and send 0-RTT data).
   */
  default void onSessionTicket(byte[] ticket) {
  }
}
