package dev.grpcquic.engine;

/** Takes each connection a server endpoint accepts. Must not block. */
public interface ConnectionAcceptor {

  /**
   * A new connection. It may still be in its handshake: {@link QuicConnection#openStream} then
   * completes once the handshake is done. Returns the handler that receives its events.
   */
  ConnectionHandler onConnection(QuicConnection connection);
}
