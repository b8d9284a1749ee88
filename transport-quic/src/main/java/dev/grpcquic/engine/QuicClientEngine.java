package dev.grpcquic.engine;

import java.util.concurrent.CompletableFuture;

/** Makes client connections. */
public interface QuicClientEngine {

  /**
   * Whether the engine itself keeps a quiet connection alive with QUIC PINGs every
   * {@link ClientConnectionOptions#keepAliveSeconds()}; if not, the transport does it with frames
   * of its own.
   */
  default boolean sendsKeepAlivePings() {
    return false;
  }

  /**
   * Whether the engine itself sends a QUIC PING when calls are in flight and nothing arrived for
   * {@link ClientConnectionOptions#quietPathProbe()}; if not, the transport does it with frames of
   * its own.
   */
  default boolean probesQuietPaths() {
    return false;
  }

  /**
   * A client connection that is not started yet: streams opened on it before {@link
   * UnstartedConnection#start} carry their first bytes as 0-RTT data when the options' session
   * ticket allows it. Never blocks, sends nothing and calls no handler. The handler gets the
   * connection's events once it starts.
   */
  UnstartedConnection open(ClientConnectionOptions options, ConnectionHandler handler);

  /**
   * Connects and completes when the handshake is done: {@code open(options, handler).start()}.
   * Never blocks the caller. The handler gets the connection's events from then on.
   */
  default CompletableFuture<QuicConnection> connect(ClientConnectionOptions options,
      ConnectionHandler handler) {
    return open(options, handler).start();
  }
}
