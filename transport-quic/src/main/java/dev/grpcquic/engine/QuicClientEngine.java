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
   * Connects and completes when the handshake is done. Never blocks the caller. The handler gets
   * the connection's events from then on.
   */
  CompletableFuture<QuicConnection> connect(ClientConnectionOptions options, ConnectionHandler handler);

  /**
   * Connects like {@link #connect(ClientConnectionOptions, ConnectionHandler)}, resuming with the
   * options' session ticket, and opens the given streams with their first bytes: as 0-RTT data
   * when the ticket allows it, after the handshake otherwise (see {@link EarlyStream}). Each
   * stream's future completes once the handshake is done, or fails with the connection.
   */
  default CompletableFuture<QuicConnection> connect(ClientConnectionOptions options,
      ConnectionHandler handler, java.util.List<EarlyStream> earlyStreams) {
    CompletableFuture<QuicConnection> connected = connect(options, handler);
    connected.whenComplete((connection, error) -> {
      for (EarlyStream early : earlyStreams) {
        if (error != null) {
          early.opened().completeExceptionally(error);
        } else {
          connection.openStream(true, early.handler()).whenComplete((stream, openError) -> {
            if (openError != null) {
              early.opened().completeExceptionally(openError);
            } else {
              stream.write(early.data(), early.fin());
              early.opened().complete(stream);
            }
          });
        }
      }
    });
    return connected;
  }
}
