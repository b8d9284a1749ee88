package dev.grpcquic.transport;

import dev.grpcquic.engine.QuicStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Stands in for a request stream whose QUIC stream does not exist yet because the connection is
 * still to be made: what is written before {@link #seal} becomes the stream's 0-RTT data; what
 * happens after (more writes, read credit, a reset) is replayed in order on the real stream once
 * it is {@link #bind bound}, and from then on every call goes straight through.
 */
final class DeferredQuicStream implements QuicStream {
  private final List<ByteBuffer> early = new ArrayList<>();
  private boolean earlyFin;
  private boolean sealed;
  private final List<Consumer<QuicStream>> later = new ArrayList<>();
  private long queued;
  private volatile QuicStream target;

  /** Ends the early part: its bytes, concatenated. */
  synchronized ByteBuffer seal() {
    sealed = true;
    int size = 0;
    for (ByteBuffer b : early) {
      size += b.remaining();
    }
    ByteBuffer all = ByteBuffer.allocate(size);
    for (ByteBuffer b : early) {
      all.put(b);
    }
    early.clear();
    return all.flip();
  }

  synchronized boolean earlyFin() {
    return earlyFin;
  }

  /** The real stream, with the early bytes already written on it: replays the rest. */
  void bind(QuicStream stream) {
    List<Consumer<QuicStream>> ops;
    synchronized (this) {
      ops = new ArrayList<>(later);
      later.clear();
      queued = 0;
      target = stream;
    }
    for (Consumer<QuicStream> op : ops) {
      op.accept(stream);
    }
  }

  QuicStream target() {
    return target;
  }

  @Override
  public long id() {
    QuicStream t = target;
    return t == null ? -1 : t.id();
  }

  @Override
  public boolean isBidirectional() {
    return true;
  }

  @Override
  public void request(int bytes) {
    if (!defer(s -> s.request(bytes))) {
      target.request(bytes);
    }
  }

  @Override
  public void write(ByteBuffer data, boolean fin) {
    synchronized (this) {
      if (target == null) {
        if (!sealed) {
          ByteBuffer copy = ByteBuffer.allocate(data.remaining()).put(data.duplicate()).flip();
          early.add(copy);
          earlyFin |= fin;
        } else {
          queued += data.remaining();
          later.add(s -> s.write(data, fin));
        }
        return;
      }
    }
    target.write(data, fin);
  }

  @Override
  public long queuedBytes() {
    QuicStream t = target;
    if (t != null) {
      return t.queuedBytes();
    }
    synchronized (this) {
      return queued;
    }
  }

  @Override
  public void reset(long applicationErrorCode) {
    if (!defer(s -> s.reset(applicationErrorCode))) {
      target.reset(applicationErrorCode);
    }
  }

  @Override
  public void stopSending(long applicationErrorCode) {
    if (!defer(s -> s.stopSending(applicationErrorCode))) {
      target.stopSending(applicationErrorCode);
    }
  }

  /** Queues {@code op} for the real stream; false when the real stream is there already. */
  private synchronized boolean defer(Consumer<QuicStream> op) {
    if (target != null) {
      return false;
    }
    later.add(op);
    return true;
  }
}
