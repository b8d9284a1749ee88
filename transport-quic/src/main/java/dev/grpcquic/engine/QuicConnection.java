package dev.grpcquic.engine;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/**
 * One QUIC connection as the HTTP/3 layer sees it. No method blocks: work that the engine can only
 * do by blocking happens on the engine's own threads. Events arrive on the {@link ConnectionHandler}
 * given when the connection was made or accepted.
 */
public interface QuicConnection {

  /**
   * Opens a locally initiated stream. The future completes once the peer's stream limit allows the
   * stream to exist (it may wait for MAX_STREAMS); it fails when the connection closes first.
   */
  CompletableFuture<QuicStream> openStream(boolean bidirectional, StreamHandler handler);

  /** Sends CONNECTION_CLOSE with an application (HTTP/3) error code. Idempotent. */
  void close(long applicationErrorCode, String reason);

  /** Statistics of the connection so far. */
  ConnectionStats stats();

  InetSocketAddress remoteAddress();

  /** This end's address (for a server, the address its endpoint is bound to). */
  InetSocketAddress localAddress();

  boolean isOpen();
}
