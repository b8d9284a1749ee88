package dev.grpcquic.transport;

import dev.grpcquic.engine.QuicConnection;

/**
 * Keeps the live QUIC connections of a channel, so that something outside the transports (the
 * channel's migration controller) can act on all of them. Calls must not block: they come from
 * engine threads and from under a transport's lock.
 */
public interface ConnectionRegistry {

  /** The connection is ready for calls. */
  void add(QuicConnection connection);

  /** The connection ended or its transport terminated. */
  void remove(QuicConnection connection);
}
