package dev.grpcquic.engine;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * For engines: the stream {@link UnstartedConnection#openStream} returns, standing in until the
 * QUIC stream exists. What is written before {@link #seal} (the connection's start) becomes the
 * stream's first bytes, which the engine sends as 0-RTT data or after the handshake; what happens
 * after (more writes, read credit, a reset) is replayed in order on the real stream once it is
 * {@link #bind bound}, and from then on every call goes straight through.
 */
public final class PendingStream implements QuicStream {
  private final StreamHandler handler;
  private final List<ByteBuffer> early = new ArrayList<>();
  private ByteBuffer sealedData;
  private boolean earlyFin;
  private final List<Consumer<QuicStream>> later = new ArrayList<>();
  private long queued;
  private boolean failed;
  private volatile QuicStream target;

  public PendingStream(StreamHandler handler) {
    this.handler = handler;
  }

  /**
   * An {@link UnstartedConnection} whose streams are PendingStreams: {@code start} seals them and
   * hands them, in the order they were opened, to {@code starter}, which makes the connection.
   */
  public static UnstartedConnection collector(
      Function<List<PendingStream>, CompletableFuture<QuicConnection>> starter) {
    return new UnstartedConnection() {
      private final List<PendingStream> streams = new ArrayList<>();
      private boolean started;

      @Override
      public synchronized QuicStream openStream(StreamHandler streamHandler) {
        if (started) {
          throw new IllegalStateException("connection already started");
        }
        PendingStream stream = new PendingStream(streamHandler);
        streams.add(stream);
        return stream;
      }

      @Override
      public CompletableFuture<QuicConnection> start() {
        List<PendingStream> early;
        synchronized (this) {
          if (started) {
            throw new IllegalStateException("connection already started");
          }
          started = true;
          early = List.copyOf(streams);
        }
        early.forEach(PendingStream::seal);
        return starter.apply(early);
      }
    };
  }

  /** The caller's handler: the engine gives it to the real stream. */
  public StreamHandler handler() {
    return handler;
  }

  /** At the connection's start: ends the early part. */
  public synchronized void seal() {
    if (sealedData != null) {
      return;
    }
    int size = 0;
    for (ByteBuffer b : early) {
      size += b.remaining();
    }
    ByteBuffer all = ByteBuffer.allocate(size);
    for (ByteBuffer b : early) {
      all.put(b);
    }
    early.clear();
    sealedData = all.flip().asReadOnlyBuffer();
  }

  /** After {@link #seal}: the first bytes, concatenated (a fresh view each time). */
  public synchronized ByteBuffer earlyData() {
    return sealedData.duplicate();
  }

  /** After {@link #seal}: whether the first bytes end the sending side. */
  public synchronized boolean earlyFin() {
    return earlyFin;
  }

  /**
   * The real stream, with the first bytes already written on it (and reported to the handler):
   * replays the rest. Returns false, binding nothing, when the stream {@link #fail failed} first.
   */
  public boolean bind(QuicStream stream) {
    List<Consumer<QuicStream>> ops;
    synchronized (this) {
      if (failed || target != null) {
        return false;
      }
      ops = new ArrayList<>(later);
      later.clear();
      queued = 0;
      target = stream;
    }
    for (Consumer<QuicStream> op : ops) {
      op.accept(stream);
    }
    return true;
  }

  /**
   * The stream will never exist (the connection was not made, or closed before it opened): the
   * handler gets {@link StreamHandler#onConnectionClosed}, once, unless the stream was bound.
   */
  public void fail(Throwable error) {
    synchronized (this) {
      if (failed || target != null) {
        return;
      }
      failed = true;
      later.clear();
      queued = 0;
    }
    String why = error == null ? "stream not opened" : String.valueOf(error.getMessage());
    handler.onConnectionClosed(new ConnectionCloseInfo(ConnectionCloseInfo.Reason.LOST, false,
        -1, -1, why));
  }

  /** The real stream, once bound; null before. */
  public QuicStream target() {
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
        if (failed) {
          return;
        }
        if (sealedData == null) {
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
    if (!failed) {
      later.add(op);
    }
    return true;
  }

  @Override
  public String toString() {
    QuicStream t = target;
    return t != null ? t.toString() : failed ? "PendingStream(failed)" : "PendingStream";
  }
}
