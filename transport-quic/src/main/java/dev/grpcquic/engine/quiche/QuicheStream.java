package dev.grpcquic.engine.quiche;

import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultMaxMessagesRecvByteBufAllocator;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelOutputShutdownException;
import io.netty.handler.codec.quic.DefaultQuicStreamFrame;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamResetException;
import io.netty.util.concurrent.Future;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A Netty QUIC stream channel as the seam's {@link QuicStream}; it is also the channel's handler.
 * All of its state lives on the channel's event loop: the {@code QuicStream} methods, callable from
 * any thread, post their work there (never run it inline, so that a handler calling back from one
 * of its events never re-enters the stream).
 *
 * <p>Reading follows the application: the channel does not read on its own (AUTO_READ off), and
 * from the first {@link #request} on, a {@code read()} is asked for whenever nothing is buffered
 * here; it takes no more than the transport's read credit, and one byte when there is none (so that
 * a FIN after the last byte the credit allowed is seen without more credit). quiche returns
 * flow-control credit (MAX_STREAM_DATA) as it hands bytes to a read, so a stream whose application
 * stops reading holds at most one window inside quiche and one read here.
 */
final class QuicheStream extends ChannelInboundHandlerAdapter implements QuicStream {
  private static final Logger LOG = Logger.getLogger(QuicheStream.class.getName());
  /** Components of one outgoing message before Netty consolidates them into a copy. */
  private static final int MAX_COMPONENTS = 64;
  /**
   * Small writes of one event-loop turn are coalesced up to this size (a few datagrams): beyond
   * it, coalescing saves nothing, and a write's completion would lag behind what quiche took.
   */
  private static final int COALESCE_BYTES = 8 * 1024;
  /** The most one read takes from quiche (Netty's default adaptive maximum). */
  private static final int MAX_READ_BYTES = 64 * 1024;

  private final QuicheConnection connection;
  private final boolean bidirectional;
  private StreamHandler handler;
  private QuicStreamChannel channel;
  private final AtomicLong queued = new AtomicLong();
  private final ConcurrentLinkedQueue<PostedWrite> posted = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  /** Credit given by {@link #request} and not yet taken into {@link #credit} by the event loop. */
  private final AtomicLong requested = new AtomicLong();
  /**
   * Set by the event loop when its credit ran out: only then does {@link #request} wake it. A
   * call's reader returns credit for every message it consumes, from the application's thread;
   * while credit is left, that is only a number for the loop's next read, not worth a wake-up.
   */
  private volatile boolean creditNeeded = true;
  /** Set by {@link #reset} and {@link #stopSending} on the caller's thread: no inbound events after. */
  private volatile boolean abandoned;

  // Event loop only.
  private final ArrayDeque<ByteBuf> received = new ArrayDeque<>();
  private long credit;
  private boolean readPending;
  private boolean finReceived;
  /** The receiving side's end was delivered (or it was abandoned): no more inbound events. */
  private boolean inputDone;
  /** FIN was handed to the channel, or the sending side was reset. */
  private boolean outputDone;
  /** The peer's STOP_SENDING was reported (several queued writes fail with it). */
  private boolean stopSendingSeen;
  /** Written and not yet handed to the channel (until the end of the drain or a large write). */
  private CompositeByteBuf pending = Unpooled.compositeBuffer(MAX_COMPONENTS);
  private int pendingBytes;
  private boolean pendingFin;

  /**
   * @param inputDone true for a unidirectional stream this end opened (nothing to receive)
   * @param outputDone true for a unidirectional stream the peer opened (nothing to send)
   */
  QuicheStream(QuicheConnection connection, StreamHandler handler, boolean bidirectional,
      boolean inputDone, boolean outputDone) {
    this.connection = connection;
    this.handler = handler;
    this.bidirectional = bidirectional;
    this.inputDone = inputDone;
    this.outputDone = outputDone;
  }

  /** Peer streams: the handler is known only once the connection's handler has seen the stream. */
  void setHandler(StreamHandler handler) {
    this.handler = handler;
  }

  /**
   * Event loop, a peer stream before its handler is set: credit it is given from now on waits for
   * {@link #startReading}, without a task of its own.
   */
  void holdCreditUntilStarted() {
    creditNeeded = false;
  }

  /**
   * Event loop: reads what the credit allows now, unless the receiving side is done. A new peer
   * stream calls it once it is in its channel's pipeline: its first bytes (a request's HEADERS)
   * arrived with it and Netty marked it readable, so they reach the handler in this turn instead
   * of a task's after the connection's other work.
   */
  void startReading() {
    if (!inputDone && !abandoned) {
      deliver();
    }
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    attach((QuicStreamChannel) ctx.channel());
  }

  /** The channel of a peer stream, known before the handler is added. */
  void attach(QuicStreamChannel channel) {
    if (this.channel != channel) {
      this.channel = channel;
      channel.config().setRecvByteBufAllocator(new CreditBoundReads());
    }
  }

  /**
   * Reads from quiche no more than the transport's credit. What quiche hands to a read counts as
   * consumed: it returns that much flow-control credit to the peer and may double the stream's
   * window (its autotuning). A read of Netty's usual size (up to 64 KiB) into a stream with a
   * 20 KiB window let a stalled stream hold several windows, and a thousand of them used up the
   * connection's window so that other calls stalled (MemoryBudgetTest on quiche).
   */
  private final class CreditBoundReads extends DefaultMaxMessagesRecvByteBufAllocator {
    CreditBoundReads() {
      super(1);
    }

    @Override
    public Handle newHandle() {
      return new MaxMessageHandle() {
        @Override
        public int guess() {
          takeRequested();
          return (int) Math.max(1, Math.min(credit, MAX_READ_BYTES));
        }
      };
    }
  }

  @Override
  public long id() {
    return channel.streamId();
  }

  @Override
  public boolean isBidirectional() {
    return bidirectional;
  }

  @Override
  public void request(int bytes) {
    if (bytes <= 0) {
      return;
    }
    requested.addAndGet(bytes);
    if (creditNeeded) {
      run(this::startReading);
    }
  }

  /** Event loop: takes the credit {@link #request} gave since the last look. */
  private void takeRequested() {
    long more = requested.getAndSet(0);
    if (more > 0) {
      credit += more;
    }
  }

  /**
   * Writes wait in {@link #posted} for one drain task on the event loop, scheduled by the first of
   * them (as grpc-netty's WriteQueue does): the writes a caller makes while the loop wakes up
   * (a call's HEADERS, DATA and FIN) are drained together and leave as one message.
   */
  @Override
  public void write(ByteBuffer data, boolean fin) {
    int bytes = data.remaining();
    queued.addAndGet(bytes);
    posted.add(new PostedWrite(data, fin, bytes));
    if (drainScheduled.compareAndSet(false, true) && !run(this::drainPosted)) {
      PostedWrite dropped; // the event loops are shutting down with the process
      while ((dropped = posted.poll()) != null) {
        queued.addAndGet(-dropped.bytes());
      }
    }
  }

  /** Waits in {@link #posted} for the next write's drain: no wake-up of the event loop for it. */
  @Override
  public void writeLater(ByteBuffer data) {
    int bytes = data.remaining();
    queued.addAndGet(bytes);
    posted.add(new PostedWrite(data, false, bytes));
  }

  private void drainPosted() {
    drainScheduled.set(false);
    PostedWrite next;
    while ((next = posted.poll()) != null) {
      writeOnLoop(next.data(), next.fin(), next.bytes());
    }
    sendPending();
  }

  private record PostedWrite(ByteBuffer data, boolean fin, int bytes) {}

  /** Event loop: writes at once (0-RTT data, which must be in quiche before the next send). */
  void writeNow(ByteBuffer data, boolean fin) {
    int bytes = data.remaining();
    queued.addAndGet(bytes);
    writeOnLoop(data, fin, bytes);
    sendPending(); // not coalesced: a send queued for later would leave in 1-RTT packets
  }

  private void writeOnLoop(ByteBuffer data, boolean fin, int bytes) {
    if (outputDone || abandoned) {
      queued.addAndGet(-bytes);
      return;
    }
    if (fin) {
      outputDone = true;
      connection.unwatchStopSending(this);
    }
    if (pendingBytes > 0 && pendingBytes + bytes > COALESCE_BYTES) {
      sendPending();
    }
    pending.addComponent(true, Unpooled.wrappedBuffer(data));
    pendingBytes += bytes;
    pendingFin |= fin;
    if (pendingBytes >= COALESCE_BYTES) {
      // Large writes go at once, each its own message: its completion is the writer's progress.
      sendPending();
    }
  }

  /**
   * Hands what was written since the last turn to the channel as one message. Netty's QUIC stream
   * channel has quiche build and send packets after every message it passes on, so each message
   * of its own would be a datagram of its own (a unary call was four to five of them).
   */
  private void sendPending() {
    if (pending.numComponents() == 0) {
      return;
    }
    CompositeByteBuf buf = pending;
    int bytes = pendingBytes;
    boolean fin = pendingFin;
    pending = Unpooled.compositeBuffer(MAX_COMPONENTS);
    pendingBytes = 0;
    pendingFin = false;
    if (abandoned) {
      buf.release();
      queued.addAndGet(-bytes);
      return;
    }
    Object message = fin ? new DefaultQuicStreamFrame(buf, true) : buf;
    channel.writeAndFlush(message).addListener(f -> onWriteDone(f, bytes));
  }

  private void onWriteDone(Future<?> f, int bytes) {
    queued.addAndGet(-bytes);
    if (f.isSuccess()) {
      if (bytes > 0) {
        handler.onWritten(bytes);
      }
      return;
    }
    Throwable cause = f.cause();
    if (cause instanceof ChannelOutputShutdownException && !abandoned) {
      // The peer's STOP_SENDING: quiche answered it with RESET_STREAM. Netty tells neither the
      // code nor the moment, only this failed write.
      outputDone = true;
      connection.unwatchStopSending(this);
      if (!stopSendingSeen) {
        stopSendingSeen = true;
        handler.onStopSending(-1);
      }
    } else {
      LOG.log(Level.FINE, "stream write failed", cause);
    }
  }

  @Override
  public long queuedBytes() {
    return queued.get();
  }

  @Override
  public void reset(long applicationErrorCode) {
    abandoned = true;
    run(() -> {
      int code = (int) applicationErrorCode;
      boolean resetOutput = !outputDone;
      boolean stopInput = !inputDone && !finReceived;
      outputDone = true;
      connection.unwatchStopSending(this);
      drainPosted(); // drops what waits, written later or not
      endInput();
      if (resetOutput && stopInput) {
        channel.shutdown(code);
      } else if (resetOutput) {
        channel.shutdownOutput(code);
      } else if (stopInput) {
        channel.shutdownInput(code);
      }
      channel.close();
    });
  }

  /**
   * RESET_STREAM only; the receiving side stays unread (no read is asked for), so quiche does not
   * collect the stream and keeps its MAX_STREAMS slot until {@link #reset} ends that side too.
   */
  @Override
  public boolean resetSending(long applicationErrorCode) {
    run(() -> {
      if (outputDone) {
        return;
      }
      outputDone = true;
      connection.unwatchStopSending(this);
      drainPosted();
      channel.shutdownOutput((int) applicationErrorCode);
    });
    return true;
  }

  /** quiche keeps an unread stream whatever the peer does, until {@link #reset} reads it off. */
  @Override
  public boolean holdsSlot() {
    return !abandoned;
  }

  @Override
  public void stopSending(long applicationErrorCode) {
    run(() -> {
      if (inputDone) {
        return;
      }
      boolean stopInput = !finReceived;
      endInput();
      if (stopInput) {
        channel.shutdownInput((int) applicationErrorCode);
      }
    });
  }

  /** Event loop: the connection saw that the peer stopped this stream's sending side. */
  void onPeerStopSending() {
    if (outputDone || abandoned || stopSendingSeen) {
      return;
    }
    outputDone = true;
    stopSendingSeen = true;
    handler.onStopSending(-1);
  }

  // ---- channel events ----

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    readPending = false;
    if (inputDone || abandoned) {
      buf.release();
      return;
    }
    connection.addUnread(buf.readableBytes());
    received.add(buf);
    deliver();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == ChannelInputShutdownEvent.INSTANCE) {
      finReceived = true;
      deliver();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof QuicStreamResetException reset) {
      if (!inputDone && !abandoned) {
        endInput();
        handler.onReset(reset.applicationProtocolCode());
      }
      return;
    }
    LOG.log(Level.FINE, "stream " + channel.streamId() + " failed", cause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    connection.unwatchStopSending(this);
    if (stopSendingSeen || abandoned) {
      // The peer may have stopped this stream, told or not: quiche may need asking to free it.
      connection.collectWhenComplete(channel.streamId());
    }
    // Closed after both sides finished (then the end was seen), by reset (abandoned), or with the
    // connection. Data already read stays deliverable; what never came ends the stream.
    if (inputDone || abandoned || finReceived) {
      return;
    }
    endInput();
    if (connection.isOpen()) {
      handler.onReset(-1);
    } else {
      handler.onConnectionClosed(connection.closeInfo());
    }
  }

  /** Hands buffered bytes to the handler while credit lasts; asks the channel for more. */
  private void deliver() {
    takeRequested();
    while (credit > 0 && !received.isEmpty() && !inputDone && !abandoned) {
      ByteBuf head = received.peek();
      int n = (int) Math.min(credit, head.readableBytes());
      ByteBuffer out = ByteBuffer.allocate(n);
      head.readBytes(out);
      out.flip();
      if (!head.isReadable()) {
        received.poll().release();
      }
      credit -= n;
      connection.onBytesRead(n);
      handler.onData(out);
    }
    if (inputDone || abandoned) {
      return;
    }
    if (credit == 0) {
      // Out of credit: from now on request() wakes the loop. Credit that came before the flag was
      // set is seen here (the flag is written before the look, request() adds before its look).
      creditNeeded = true;
      if (requested.get() > 0) {
        creditNeeded = false;
        deliver();
        return;
      }
    } else {
      creditNeeded = false;
    }
    if (credit == 0 && bidirectional && !outputDone) {
      // The application stopped reading, so no read is pending and a RESET_STREAM would go
      // unseen (Netty reports it to a read only). A gRPC client cancels with STOP_SENDING as
      // well, which the connection can see without reading.
      connection.watchStopSending(this);
    }
    if (!received.isEmpty()) {
      return;
    }
    if (finReceived) {
      inputDone = true;
      handler.onEndOfStream();
      if (!outputDone && !abandoned && bidirectional) {
        connection.watchStopSending(this);
      }
    } else if (!readPending && channel.isActive()) {
      // Also without credit: Netty learns of a FIN only in a read, and the FIN may follow data
      // that used the credit up. Such a read takes at most one byte (CreditBoundReads), held in
      // received until credit comes.
      readPending = true;
      channel.read();
    }
  }

  private void endInput() {
    inputDone = true;
    ByteBuf buf;
    while ((buf = received.poll()) != null) {
      connection.addUnread(-buf.readableBytes());
      buf.release();
    }
  }

  private boolean run(Runnable task) {
    try {
      channel.eventLoop().execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      return false; // the event loops are shutting down with the process
    }
  }

  @Override
  public String toString() {
    return "QuicheStream{id=" + (channel == null ? "?" : channel.streamId()) + "}";
  }
}
