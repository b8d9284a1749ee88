package dev.grpcquic.metrics;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.PendingStream;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A stream seen by the transport metrics: passes every call and event through, and counts resets
 * (sent and received, by code) and the time written bytes wait before the engine accepts them.
 *
 * <p>The engine accepts written bytes as QUIC flow control (the peer's stream and connection
 * windows) and its own send buffer let it; bytes that wait longer than {@link
 * TransportMetrics#BLOCKED_THRESHOLD_NANOS} make one blocked episode.
 */
final class InstrumentedStream implements QuicStream, StreamHandler {
  private final TransportMetrics metrics;
  /**
   * Set at once for peer streams, when the engine's future completes for our own, and at once
   * (the engine's {@link PendingStream}) for those opened before their connection started.
   */
  private volatile QuicStream delegate;
  /** Set once the transport's handler is known (a peer stream gets it after wrapping). */
  private volatile StreamHandler handler;
  /** When the queue last went from empty to holding unaccepted bytes; 0 when empty. */
  private final AtomicLong blockedSince = new AtomicLong();
  /** resetSending was called: the reset that later ends the stream was counted then. */
  private volatile boolean sendingReset;

  InstrumentedStream(TransportMetrics metrics, QuicStream delegate, StreamHandler handler) {
    this.metrics = metrics;
    this.delegate = delegate;
    this.handler = handler;
  }

  void delegate(QuicStream stream) {
    this.delegate = stream;
  }

  void handler(StreamHandler streamHandler) {
    this.handler = streamHandler;
  }

  // ---- QuicStream (transport threads) ----

  @Override
  public long id() {
    return delegate.id();
  }

  @Override
  public boolean isBidirectional() {
    return delegate.isBidirectional();
  }

  @Override
  public void request(int bytes) {
    delegate.request(bytes);
  }

  @Override
  public void write(ByteBuffer data, boolean fin) {
    QuicStream stream = delegate;
    stream.write(data, fin);
    // Bytes written on a stream opened before its connection started wait for the handshake
    // while it does not exist yet, not for flow control: no blocked episode for them.
    if (stream.queuedBytes() > 0
        && !(stream instanceof PendingStream pending && pending.target() == null)) {
      blockedSince.compareAndSet(0, System.nanoTime());
    }
  }

  @Override
  public void writeLater(ByteBuffer data) {
    delegate.writeLater(data);
  }

  @Override
  public long queuedBytes() {
    return delegate.queuedBytes();
  }

  @Override
  public void reset(long applicationErrorCode) {
    if (!sendingReset) { // else counted by resetSending
      metrics.streamReset(true, applicationErrorCode);
    }
    endBlocked();
    delegate.reset(applicationErrorCode);
  }

  @Override
  public boolean resetSending(long applicationErrorCode) {
    sendingReset = true;
    metrics.streamReset(true, applicationErrorCode);
    endBlocked();
    return delegate.resetSending(applicationErrorCode);
  }

  @Override
  public boolean holdsSlot() {
    return delegate.holdsSlot();
  }

  @Override
  public void stopSending(long applicationErrorCode) {
    delegate.stopSending(applicationErrorCode);
  }

  // ---- StreamHandler (engine threads) ----

  @Override
  public void onData(ByteBuffer data) {
    handler.onData(data);
  }

  @Override
  public void onEndOfStream() {
    handler.onEndOfStream();
  }

  @Override
  public void onReset(long applicationErrorCode) {
    metrics.streamReset(false, applicationErrorCode);
    handler.onReset(applicationErrorCode);
  }

  @Override
  public void onStopSending(long applicationErrorCode) {
    endBlocked();
    handler.onStopSending(applicationErrorCode);
  }

  @Override
  public void onWritten(int bytes) {
    QuicStream stream = delegate;
    if (stream == null || stream.queuedBytes() == 0) {
      endBlocked();
    }
    handler.onWritten(bytes);
  }

  @Override
  public void onConnectionClosed(ConnectionCloseInfo info) {
    endBlocked();
    handler.onConnectionClosed(info);
  }

  private void endBlocked() {
    long since = blockedSince.getAndSet(0);
    if (since != 0) {
      metrics.streamBlocked(System.nanoTime() - since);
    }
  }

  @Override
  public String toString() {
    return "Instrumented(" + delegate + ")";
  }
}
