package dev.grpcquic.metrics;

import dev.grpcquic.engine.ClientConnectionOptions;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.EarlyDataStats;
import dev.grpcquic.engine.EarlyStream;
import dev.grpcquic.engine.QuicClientEngine;
import dev.grpcquic.engine.QuicConnection;
import io.opentelemetry.api.common.Attributes;
import java.util.ArrayList;
import java.util.List;
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
  public CompletableFuture<QuicConnection> connect(ClientConnectionOptions options,
      ConnectionHandler handler) {
    InstrumentedConnection connection = newConnection(options, handler);
    long start = System.nanoTime();
    return opened(options, connection, start, engine.connect(options, connection));
  }

  @Override
  public CompletableFuture<QuicConnection> connect(ClientConnectionOptions options,
      ConnectionHandler handler, List<EarlyStream> earlyStreams) {
    InstrumentedConnection connection = newConnection(options, handler);
    // The early streams' handlers see the same stream the transport gets: the wrapped one.
    List<EarlyStream> wrapped = new ArrayList<>(earlyStreams.size());
    for (EarlyStream early : earlyStreams) {
      InstrumentedStream stream = new InstrumentedStream(metrics, null, early.handler());
      EarlyStream inner = new EarlyStream(early.data(), early.fin(), stream);
      inner.opened().whenComplete((s, error) -> {
        if (error != null) {
          early.opened().completeExceptionally(error);
        } else {
          stream.delegate(s);
          early.opened().complete(stream);
        }
      });
      wrapped.add(inner);
    }
    long start = System.nanoTime();
    return opened(options, connection, start, engine.connect(options, connection, wrapped));
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
