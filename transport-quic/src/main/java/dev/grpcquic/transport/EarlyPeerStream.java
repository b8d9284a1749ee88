package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import java.nio.ByteBuffer;

/**
 * A unidirectional stream the server opened before the client transport had its connection
 * (an engine may hand over the server's control stream while the connect completes). It reads
 * nothing until the control stream's handler is known ({@link #attach}); then every event goes
 * there. Without it the server's SETTINGS, which make the transport ready, would be lost.
 */
final class EarlyPeerStream implements StreamHandler {
  private final QuicStream stream;
  private StreamHandler delegate;
  /** Events that came while the real handler was being made (it asks for data as it is made). */
  private final java.util.List<java.util.function.Consumer<StreamHandler>> pending =
      new java.util.ArrayList<>();

  EarlyPeerStream(QuicStream stream) {
    this.stream = stream;
  }

  QuicStream stream() {
    return stream;
  }

  /**
   * The real handler, which may ask for data while it is made: what came meanwhile follows, in
   * order. Events keep queueing until the queue is empty, so none overtakes the replay: the
   * engine's thread used to deliver straight to the handler while this thread still replayed,
   * and the two ran the handler at once (ManyConnectionsTest with peer streams read the turn
   * they arrive: "first control frame is 0x2000", bytes of the SETTINGS frame lost in between).
   */
  void attach(StreamHandler handler) {
    while (true) {
      java.util.List<java.util.function.Consumer<StreamHandler>> replay;
      synchronized (this) {
        if (pending.isEmpty()) {
          delegate = handler;
          return;
        }
        replay = new java.util.ArrayList<>(pending);
        pending.clear();
      }
      for (java.util.function.Consumer<StreamHandler> event : replay) {
        event.accept(handler);
      }
    }
  }

  /** Calls are serialized by the engine; only the hand-over races with them. */
  private void deliver(java.util.function.Consumer<StreamHandler> event) {
    StreamHandler d;
    synchronized (this) {
      d = delegate;
      if (d == null) {
        pending.add(event);
        return;
      }
    }
    event.accept(d);
  }

  @Override
  public void onData(ByteBuffer data) {
    deliver(h -> h.onData(data));
  }

  @Override
  public void onEndOfStream() {
    deliver(StreamHandler::onEndOfStream);
  }

  @Override
  public void onReset(long applicationErrorCode) {
    deliver(h -> h.onReset(applicationErrorCode));
  }

  @Override
  public void onStopSending(long applicationErrorCode) {
    deliver(h -> h.onStopSending(applicationErrorCode));
  }

  @Override
  public void onWritten(int bytes) {
    deliver(h -> h.onWritten(bytes));
  }

  @Override
  public void onConnectionClosed(ConnectionCloseInfo info) {
    deliver(h -> h.onConnectionClosed(info));
  }
}
