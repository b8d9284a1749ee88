package dev.grpcquic.engine;

import java.util.concurrent.CompletableFuture;

/** Makes client connections. */
public interface QuicClientEngine {

  /**
   * Connects and completes when the handshake is done. Never blocks the caller. The handler gets
   * the connection's events from then on.
   */
  CompletableFuture<QuicConnection> connect(ClientConnectionOptions options, ConnectionHandler handler);
}
