package dev.grpcquic.engine;

import java.net.InetSocketAddress;

/** A listening QUIC server. */
public interface QuicServerEndpoint extends AutoCloseable {

  /** The bound address (with the real port when 0 was asked for). */
  InetSocketAddress localAddress();

  /** Stops accepting, closes every connection and releases threads and the socket. */
  @Override
  void close();
}
