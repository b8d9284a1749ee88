package dev.grpcquic.metrics;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.ConnectionHandler;
import dev.grpcquic.engine.ConnectionStats;
import dev.grpcquic.engine.EarlyDataStats;
import dev.grpcquic.engine.QuicConnection;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.engine.TlsInfo;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A connection seen by the transport metrics: the transport talks to this instead of the engine's
 * connection, and the engine sends its events here. Every call and event passes through; the
 * metrics learn when the connection opens and closes, count client migrations, and wrap each
 * stream in an {@link InstrumentedStream}. While open, the connection is sampled for the
 * per-connection gauges.
 */
final class InstrumentedConnection implements QuicConnection, ConnectionHandler {
  private final TransportMetrics metrics;
  /** What the connection's counters are kept by (role, server address and port). */
  final io.opentelemetry.api.common.Attributes baseAttributes;
  /** The same plus what tells this connection apart, for its gauges; set when it opens. */
  volatile io.opentelemetry.api.common.Attributes attributes;
  /** The engine's connection; null on a client until its handshake is done. */
  private volatile QuicConnection delegate;
  /** The transport's handler; set before the engine can deliver an event. */
  private volatile ConnectionHandler handler;
  private final AtomicBoolean opened = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  InstrumentedConnection(TransportMetrics metrics,
      io.opentelemetry.api.common.Attributes attributes) {
    this.metrics = metrics;
    this.baseAttributes = attributes;
    this.attributes = attributes;
  }

  void handler(ConnectionHandler transportHandler) {
    this.handler = transportHandler;
  }

  /** The engine made the connection (server: accepted it; client: its handshake is done). */
  void opened(QuicConnection engineConnection) {
    this.delegate = engineConnection;
    attributes = metrics.perConnection(baseAttributes, new TransportMetrics.QuicConnectionAddresses(
        engineConnection.localAddress(), engineConnection.remoteAddress()));
    if (!closed.get() && opened.compareAndSet(false, true)) {
      metrics.connectionOpened(this);
    }
  }

  QuicConnection delegate() {
    return delegate;
  }

  // ---- QuicConnection (transport threads) ----

  @Override
  public java.util.concurrent.Executor eventExecutor() {
    return delegate.eventExecutor();
  }

  @Override
  public CompletableFuture<QuicStream> openStream(boolean bidirectional, StreamHandler h) {
    InstrumentedStream stream = new InstrumentedStream(metrics, null, h);
    return delegate.openStream(bidirectional, stream).thenApply(s -> {
      stream.delegate(s);
      return stream;
    });
  }

  @Override
  public void close(long applicationErrorCode, String reason) {
    delegate.close(applicationErrorCode, reason);
  }

  @Override
  public ConnectionStats stats() {
    return delegate.stats();
  }

  @Override
  public TlsInfo tls() {
    return delegate.tls();
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return delegate.remoteAddress();
  }

  @Override
  public boolean migrate() {
    boolean moved = delegate.migrate();
    if (moved) {
      metrics.migrated(this);
    }
    return moved;
  }

  @Override
  public int peerAddressChanges() {
    return delegate.peerAddressChanges();
  }

  @Override
  public EarlyDataStats earlyData() {
    return delegate.earlyData();
  }

  @Override
  public InetSocketAddress localAddress() {
    return delegate.localAddress();
  }

  @Override
  public boolean isOpen() {
    return delegate.isOpen();
  }

  // ---- ConnectionHandler (engine threads) ----

  @Override
  public StreamHandler onPeerStream(QuicStream stream) {
    InstrumentedStream wrapped = new InstrumentedStream(metrics, stream, null);
    wrapped.handler(handler.onPeerStream(wrapped));
    return wrapped;
  }

  @Override
  public void onClosed(ConnectionCloseInfo info) {
    if (closed.compareAndSet(false, true) && opened.get()) {
      metrics.connectionClosed(this, info);
    }
    handler.onClosed(info);
  }

  @Override
  public void onSessionTicket(byte[] ticket) {
    handler.onSessionTicket(ticket);
  }

  @Override
  public String toString() {
    return "Instrumented(" + delegate + ")";
  }
}
