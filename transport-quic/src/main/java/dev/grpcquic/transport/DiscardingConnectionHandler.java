package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;

/** For a connection refused: the server is shutting down or has maxConnections already. */
final class DiscardingConnectionHandler implements ConnectionHandler {
  @Override
  public StreamHandler onPeerStream(QuicStream stream) {
    return new DiscardingStreamHandler();
  }

  @Override
  public void onClosed(ConnectionCloseInfo info) {}
}
