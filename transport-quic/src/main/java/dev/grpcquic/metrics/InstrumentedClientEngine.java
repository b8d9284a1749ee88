package dev.grpcquic.metrics;

import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.EarlyDataStats;
import dev.grpcquic.engine.QuicClientEngine;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.engine.UnstartedConnection;
import io.opentelemetry.api.common.Attributes;
import java.util.concurrent.CompletableFuture;

/**
 * A client engine whose connections are {@link InstrumentedConnection}s; it also times each
 * handshake and notes what became of its 0-RTT data.
 */
final class InstrumentedClientEngine implements QuicClientEngine {
  private final TransportMetrics metrics;
  private final QuicClientEngine engine;

  InstrumentedClientEngine(TransportMetrics metrics, QuicClientEngine engine) {
    this.metrics = metrics;
    this.engine = engine;
  }

  @Override
  public boolean sendsKeepAlivePings() {
    return engine.sendsKeepAlivePings();
  }

  @Override
  public boolean probesQuietPaths() {
    return engine.probesQuietPaths();
  }

  @Override
  public UnstartedConnection open(ClientConnectionOptions options, ConnectionHandler handler) {
    InstrumentedConnection connection = newConnection(options, handler);
    UnstartedConnection unstarted = engine.open(options, connection);
    return new UnstartedConnection() {
      @Override
      public QuicStream openStream(StreamHandler streamHandler) {
        // The stream's handler sees the same stream the transport gets: the wrapped one.
        InstrumentedStream stream = new InstrumentedStream(metrics, null, streamHandler);
        stream.delegate(unstarted.openStream(stream));
        return stream;
      }

      @Override
      public CompletableFuture<QuicConnection> start() {
        long start = System.nanoTime();
        return opened(options, connection, start, unstarted.start());
      }
    };
  }

  private InstrumentedConnection newConnection(ClientConnectionOptions options,
      ConnectionHandler handler) {
    InstrumentedConnection connection =
        new InstrumentedConnection(metrics, metrics.clientAttributes(options));
    connection.handler(handler);
    return connection;
  }

  private CompletableFuture<QuicConnection> opened(ClientConnectionOptions options,
      InstrumentedConnection connection, long start,
      CompletableFuture<QuicConnection> connecting) {
    Attributes attributes = connection.baseAttributes;
    return connecting.handle((engineConnection, error) -> {
      long nanos = System.nanoTime() - start;
      if (error != null) {
        metrics.handshake(nanos, kind(options, null), attributes, error);
        throw error instanceof RuntimeException r ? r
            : new java.util.concurrent.CompletionException(error);
      }
      EarlyDataStats early = engineConnection.earlyData();
      metrics.handshake(nanos, kind(options, early), attributes, null);
      if (early.outcome() == EarlyDataStats.Outcome.ACCEPTED
          || early.outcome() == EarlyDataStats.Outcome.REJECTED) {
        metrics.zeroRtt(early.outcome(), attributes);
      }
      connection.opened(engineConnection);
      return connection;
    });
  }

  /** cold: no session ticket; resumed: a ticket, no early data; 0rtt: early data was sent. */
  private static String kind(ClientConnectionOptions options, EarlyDataStats early) {
    if (options.sessionTicket() == null) {
      return "cold";
    }
    return early != null && early.outcome() != EarlyDataStats.Outcome.NOT_ATTEMPTED
        ? "0rtt" : "resumed";
  }
}
