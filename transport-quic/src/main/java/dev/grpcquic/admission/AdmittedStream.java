package dev.grpcquic.admission;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import dev.grpcquic.http3.Http3ErrorCode;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An admitted request stream: passes everything through and gives its limiter slot back once, at
 * the first of: the response's FIN written, a reset sent or received, the connection's end.
 */
final class AdmittedStream implements QuicStream, StreamHandler {
  private final AdaptiveConcurrencyLimiter limiter;
  private final QuicStream stream;
  private final long arrived = System.nanoTime();
  private final AtomicBoolean released = new AtomicBoolean();
  private volatile StreamHandler handler;

  AdmittedStream(AdaptiveConcurrencyLimiter limiter, QuicStream stream) {
    this.limiter = limiter;
    this.stream = stream;
  }

  void handler(StreamHandler streamHandler) {
    this.handler = streamHandler;
  }

  /** The call is over for the server: its latency is a sample of the server's. */
  private void release(boolean sample) {
    if (released.compareAndSet(false, true)) {
      if (sample) {
        limiter.release(System.nanoTime() - arrived);
      } else {
        limiter.releaseWithoutSample();
      }
    }
  }

  // ---- QuicStream (the transport) ----

  @Override
  public long id() {
    return stream.id();
  }

  @Override
  public boolean isBidirectional() {
    return true;
  }

  @Override
  public void request(int bytes) {
    stream.request(bytes);
  }

  @Override
  public void write(ByteBuffer data, boolean fin) {
    stream.write(data, fin);
    if (fin) {
      release(true);
    }
  }

  @Override
  public void writeLater(ByteBuffer data) {
    stream.writeLater(data);
  }

  @Override
  public long queuedBytes() {
    return stream.queuedBytes();
  }

  @Override
  public void reset(long applicationErrorCode) {
    // REQUEST_REJECTED (GOAWAY, headers timeout): the call never ran, its time says nothing.
    release(applicationErrorCode != Http3ErrorCode.H3_REQUEST_REJECTED);
    stream.reset(applicationErrorCode);
  }

  @Override
  public void stopSending(long applicationErrorCode) {
    stream.stopSending(applicationErrorCode);
  }

  // ---- StreamHandler (the engine) ----

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
    release(true); // the client gave up (a deadline, a cancel): as long as it waited counts
    handler.onReset(applicationErrorCode);
  }

  @Override
  public void onStopSending(long applicationErrorCode) {
    handler.onStopSending(applicationErrorCode);
  }

  @Override
  public void onWritten(int bytes) {
    handler.onWritten(bytes);
  }

  @Override
  public void onConnectionClosed(ConnectionCloseInfo info) {
    release(false);
    handler.onConnectionClosed(info);
  }

  @Override
  public String toString() {
    return "Admitted(" + stream + ")";
  }
}
