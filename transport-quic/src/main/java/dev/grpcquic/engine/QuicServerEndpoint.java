package dev.grpcquic.engine;

import java.net.InetSocketAddress;

/** A listening QUIC server. */
public interface QuicServerEndpoint extends AutoCloseable {

  /** The bound address (with the real port when 0 was asked for). */
  InetSocketAddress localAddress();

  /**
   * Refuses new connections from now on (their handshakes fail at once, as a closed TCP listener
   * would make them fail) while the existing ones carry on: the start of a drain.
   */
  default void stopAccepting() {
  }

  /** Stops accepting, closes every connection and releases threads and the socket. */
  @Override
  void close();
}
