package dev.grpcquic.engine;

import java.io.IOException;

/** Makes listening server endpoints. */
public interface QuicServerEngine {

  /** Binds and starts accepting; each accepted connection goes to {@code acceptor}. */
  QuicServerEndpoint bind(ServerEndpointOptions options, ConnectionAcceptor acceptor)
      throws IOException;
}
