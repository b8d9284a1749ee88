package dev.grpcquic.metrics;

import dev.grpcquic.engine.ConnectionAcceptor;
import dev.grpcquic.engine.QuicServerEndpoint;
import dev.grpcquic.engine.QuicServerEngine;
import dev.grpcquic.engine.ServerEndpointOptions;
import java.io.IOException;

/** A server engine whose accepted connections are {@link InstrumentedConnection}s. */
final class InstrumentedServerEngine implements QuicServerEngine {
  private final TransportMetrics metrics;
  private final QuicServerEngine engine;

  InstrumentedServerEngine(TransportMetrics metrics, QuicServerEngine engine) {
    this.metrics = metrics;
    this.engine = engine;
  }

  @Override
  public QuicServerEndpoint bind(ServerEndpointOptions options, ConnectionAcceptor acceptor)
      throws IOException {
    return engine.bind(options, connection -> {
      InstrumentedConnection instrumented = new InstrumentedConnection(metrics,
          metrics.serverAttributes(connection.localAddress()));
      instrumented.opened(connection);
      instrumented.handler(acceptor.onConnection(instrumented));
      return instrumented;
    });
  }
}
