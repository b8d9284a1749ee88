package dev.grpcquic.engine.kwik;

import dev.grpcquic.engine.ConnectionCloseInfo;
import dev.grpcquic.engine.QuicStream;
import dev.grpcquic.engine.StreamHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A kwik stream behind the engine's non-blocking {@link QuicStream}.
 *
 * <p>Threads: kwik's stream I/O blocks, so it runs on the connection's executor. A reader task
 * exists from the first {@link #request} until the receiving side ends, except while it waits for
 * credit: it reads at most the credit and hands the bytes to {@link StreamHandler#onData}. With the
 * credit used up it reads one byte more (kwik tells of a FIN only to a read), so that a FIN after
 * the last byte the credit allowed ends the stream without further credit; a byte that comes
 * instead is held until {@link #request} gives credit again, and the reader ends meanwhile. A
 * writer task exists only while there are queued bytes or a FIN to hand to kwik; it blocks
 * in kwik's write while kwik's 50 KiB send buffer is full. All handler calls of the stream go
 * through one {@link EventSerializer}, so they never overlap.
 *
 * <p>Lock: {@code this} guards the credit, the write queue and the state flags. No kwik call and no
 * handler call is made while holding it.
 */
final class KwikStream implements QuicStream {

  private static final Logger LOG = Logger.getLogger(KwikStream.class.getName());
  private static final int READ_CHUNK = 32 * 1024;
  /** Below kwik's 50 KiB send buffer, so that a write blocks only until part of it drained. */
  private static final int WRITE_CHUNK = 16 * 1024;
  /** The least time a reset waits for the peer to acknowledge the stream's first frame. */
  static final long ACK_WAIT_MIN_MILLIS = 250;

  private final KwikConnection connection;
  private final tech.kwik.core.QuicStream kwik;
  private final Executor executor;
  private final EventSerializer events = new EventSerializer();
  private volatile StreamHandler handler;
  /** Set by the send-stall guard when it starts watching. */
  volatile Object guardEntry;

  // Guarded by this.
  private long credit;
  /** request() was called: from then on the reader also runs without credit, to see a FIN. */
  private boolean requested;
  /** A byte the reader took from kwik without credit (to see a FIN), or -1. */
  private int heldByte = -1;
  private boolean readerRunning;
  /** The thread inside {@link #readLoop}, for {@link ReadWakeupWatch}. */
  private Thread readerThread;
  private boolean inboundEnded;
  private boolean terminalDelivered;
  /** A reset or connection close was delivered (an end of stream alone still lets a send reset through). */
  private boolean abortDelivered;
  private boolean stoppedByUs;
  /** kwik reset our output for the peer's STOP_SENDING, and we ended the sending side. */
  private boolean outputResetSeen;
  private final ArrayDeque<ByteBuffer> writeQueue = new ArrayDeque<>();
  private long queuedBytes;
  private boolean finRequested;
  private boolean writerRunning;
  private boolean outboundEnded;
  private boolean resetByUs;
  /** {@link #resetSending}: the receiving side is kept unread, holding the MAX_STREAMS slot. */
  private boolean receivingHeld;
  /** Bytes (or a FIN) of ours went, or are going, to kwik: a STREAM frame will leave. */
  private boolean handedToKwik;
  /** Our reset waits for the peer to have a frame of the stream; the stream is not done before. */
  private boolean resetWaiting;
  private final boolean local;
  private volatile boolean finHandedToKwik;
  private volatile boolean sendAbandoned;

  KwikStream(KwikConnection connection, tech.kwik.core.QuicStream kwik, Executor executor,
      boolean local) {
    this.connection = connection;
    this.kwik = kwik;
    this.executor = executor;
    this.local = local;
    boolean bidi = kwik.isBidirectional();
    if (!bidi && local) {
      inboundEnded = true;
      terminalDelivered = true;
    }
    if (!bidi && !local) {
      outboundEnded = true;
      sendAbandoned = true;
    }
    connection.frameLog().track(kwik.getStreamId());
  }

  /** Installs the handler; events (and reads) start only from here on. */
  void setHandler(StreamHandler handler) {
    this.handler = handler;
    events.open();
    if ((kwik.isBidirectional() && !finHandedToKwik) || !outboundEnded) {
      connection.stopSendingWatch().watch(this);
    }
    maybeStartReader();
  }

  /** kwik sent this stream's first bytes and its FIN itself (0-RTT data). */
  void finWrittenEarly() {
    synchronized (this) {
      outboundEnded = true;
      finRequested = true;
    }
    finHandedToKwik = true;
    connection.guard().watch(this);
  }

  /** Bytes kwik took before this stream existed for us (0-RTT data): report them written. */
  void reportWritten(int bytes) {
    if (bytes > 0) {
      synchronized (this) {
        handedToKwik = true;
      }
      connection.guard().watch(this);
      events.execute(() -> handler.onWritten(bytes));
    }
  }

  OutputStream kwikOutput() {
    return kwik.getOutputStream();
  }

  boolean finHandedToKwik() {
    return finHandedToKwik;
  }

  boolean sendAbandoned() {
    return sendAbandoned;
  }

  @Override
  public long id() {
    return kwik.getStreamId();
  }

  @Override
  public boolean isBidirectional() {
    return kwik.isBidirectional();
  }

  @Override
  public void request(int bytes) {
    if (bytes <= 0) {
      return;
    }
    synchronized (this) {
      credit += bytes;
      requested = true;
    }
    maybeStartReader();
  }

  private void maybeStartReader() {
    synchronized (this) {
      if (readerRunning || inboundEnded || !requested || (credit <= 0 && heldByte >= 0)
          || handler == null) {
        return;
      }
      readerRunning = true;
    }
    try {
      executor.execute(this::readLoop);
    } catch (RejectedExecutionException e) {
      synchronized (this) {
        readerRunning = false;
      }
      refused("reader", e);
    }
  }

  /** The connection's threads are gone once it ended: only a refusal before that is news. */
  private void refused(String task, RejectedExecutionException e) {
    LOG.log(connection.isClosingOrClosed() ? Level.FINE : Level.WARNING,
        "executor refused a stream " + task, e);
  }

  private void readLoop() {
    InputStream in = kwik.getInputStream();
    Thread.interrupted(); // kwik interrupts blocked readers; never carry a stale flag over
    synchronized (this) {
      readerThread = Thread.currentThread();
      connection.readWakeupWatch().watch(this);
    }
    try {
      while (true) {
        int want;
        boolean ended;
        int held;
        synchronized (this) {
          ended = inboundEnded;
          held = heldByte;
          boolean waitForCredit = !ended && credit <= 0 && held >= 0;
          if (ended || waitForCredit) {
            readerRunning = false;
          }
          if (waitForCredit) {
            return; // request() starts it again
          }
          want = (int) Math.min(credit, READ_CHUNK);
          if (want > 0 && held >= 0) {
            heldByte = -1;
            credit--;
          }
        }
        if (ended) {
          // Ended by a reset or STOP_SENDING while this reader ran: it was not done then.
          connection.streamMaybeDone(this);
          return;
        }
        if (want > 0 && held >= 0) {
          deliverData(new byte[] {(byte) held}, 1);
          continue;
        }
        byte[] buffer = new byte[Math.max(1, want)];
        int read;
        try {
          // Without credit, a peek of one byte: kwik's read tells of the FIN only when asked for
          // bytes, and the FIN may follow data that used the credit up. A byte that comes
          // instead is held here until credit is given.
          read = want > 0 ? in.read(buffer, 0, want) : in.read(buffer, 0, 1);
        } catch (IOException e) {
          readFailed(e);
          return;
        } catch (RuntimeException e) {
          // kwik's read races with its discarding of a reset or aborted input and can throw
          // (NoSuchElementException); uncaught, it would leave the stream marked as reading.
          readFailed(new IOException("kwik read failed", e));
          return;
        }
        if (read < 0) {
          synchronized (this) {
            inboundEnded = true;
            readerRunning = false;
          }
          deliverEndOfStream();
          connection.streamMaybeDone(this);
          return;
        }
        if (read > 0) {
          connection.deliveryRate().onBytesRead(read);
          if (want <= 0) {
            synchronized (this) {
              heldByte = buffer[0] & 0xff;
            }
            continue;
          }
          synchronized (this) {
            credit -= read;
          }
          deliverData(buffer, read);
        }
      }
    } finally {
      synchronized (this) {
        if (readerThread == Thread.currentThread()) {
          readerThread = null;
          connection.readWakeupWatch().unwatch(this);
        }
      }
      Thread.interrupted(); // a late wake-up must not reach the pool thread's next task
    }
  }

  /** Hands {@code length} bytes to the handler, unless we stopped reading meanwhile. */
  private void deliverData(byte[] buffer, int length) {
    ByteBuffer data = ByteBuffer.wrap(buffer, 0, length);
    events.execute(() -> {
      boolean drop;
      synchronized (this) {
        drop = stoppedByUs;
      }
      if (!drop) {
        handler.onData(data);
      }
    });
  }

  private void readFailed(IOException e) {
    boolean silent;
    synchronized (this) {
      readerRunning = false;
      inboundEnded = true;
      silent = stoppedByUs;
    }
    if (!silent && !connection.isClosingOrClosed()
        && !"Connection closed".equals(e.getMessage())) {
      LOG.log(Level.FINE, "stream " + id() + " read ended", e);
      long code = connection.frameLog().peerResetCode(id());
      deliverTerminal(h -> h.onReset(code));
    }
    connection.streamMaybeDone(this);
  }

  @Override
  public void write(ByteBuffer data, boolean fin) {
    boolean start = false;
    synchronized (this) {
      if (outboundEnded || finRequested) {
        return;
      }
      if (data != null && data.hasRemaining()) {
        writeQueue.add(data);
        queuedBytes += data.remaining();
      }
      if (fin) {
        finRequested = true;
      }
      if (!writerRunning && (!writeQueue.isEmpty() || finRequested)) {
        writerRunning = true;
        start = true;
      }
    }
    if (start) {
      try {
        executor.execute(this::writeLoop);
      } catch (RejectedExecutionException e) {
        synchronized (this) {
          writerRunning = false;
        }
        refused("writer", e);
      }
    }
  }

  private void writeLoop() {
    OutputStream out = kwik.getOutputStream();
    Thread.interrupted(); // a stale interrupt would make kwik's blocking write fail
    try {
      while (true) {
        ByteBuffer head = null;
        boolean ended;
        synchronized (this) {
          ended = outboundEnded;
          if (ended) {
            writerRunning = false;
          } else {
            head = writeQueue.peek();
            if (head == null && !finRequested) {
              writerRunning = false;
              return;
            }
            handedToKwik = true;
          }
        }
        if (ended) {
          // Ended by a reset while this writer ran: the stream was not done then.
          connection.streamMaybeDone(this);
          return;
        }
        if (head == null) {
          out.close(); // FIN after the last byte
          finHandedToKwik = true;
          connection.stopSendingWatch().unwatch(this);
          synchronized (this) {
            outboundEnded = true;
            writerRunning = false;
          }
          connection.guard().watch(this);
          connection.streamMaybeDone(this);
          return;
        }
        int n = writeChunk(out, head);
        connection.guard().watch(this);
        boolean report;
        synchronized (this) {
          report = !outboundEnded;
          if (report) {
            queuedBytes -= n;
            if (!head.hasRemaining() && writeQueue.peek() == head) {
              writeQueue.poll();
            }
          }
        }
        if (report) {
          events.execute(() -> handler.onWritten(n));
        }
      }
    } catch (IOException e) {
      writeFailed(e);
    } catch (RuntimeException e) {
      writeFailed(new IOException("kwik write failed", e)); // as for reads: never leave it marked
    } finally {
      Thread.interrupted();
    }
  }

  private void writeFailed(IOException e) {
    // A reset waiting for a frame that will not leave now goes at once.
    connection.frameLog().runWaitingNow(id());
    boolean silent;
    synchronized (this) {
      writerRunning = false;
      silent = resetByUs || outboundEnded;
    }
    if (!silent && !connection.isClosingOrClosed()) {
      // kwik answered the peer's STOP_SENDING with RESET_STREAM; it does not tell the code.
      LOG.log(Level.FINE, "stream " + id() + " write failed", e);
      outputResetByKwik();
      return;
    }
    synchronized (this) {
      outboundEnded = true;
      writeQueue.clear();
      queuedBytes = 0;
    }
    sendAbandoned = true;
    connection.streamMaybeDone(this);
  }

  /** Received bytes kwik holds that the handler has not been given yet. */
  long unreadBytes() {
    long held;
    synchronized (this) {
      held = heldByte >= 0 && !inboundEnded ? 1 : 0;
    }
    try {
      return held + Math.max(0, kwik.getInputStream().available());
    } catch (IOException | RuntimeException e) {
      return 0; // ended or aborted: kwik holds nothing for us any more
    }
  }

  @Override
  public synchronized long queuedBytes() {
    return queuedBytes;
  }

  /**
   * RESET_STREAM with the code unless the sending side already ended (after FIN kwik ignores it),
   * and, unless the receiving side already ended, STOP_SENDING with the same code: kwik frees the
   * stream's MAX_STREAMS slot only once both directions are finished.
   *
   * <p>On a stream we opened, both wait until the peer acknowledged a STREAM frame of it (about
   * one RTT for a call cancelled as it starts): a kwik peer drops them while it has seen no frame
   * of the stream, and the stream then holds one of the connection's slots there until the peer's
   * request-headers timeout, if it ever learns of the stream. Queued bytes that kwik has not seen
   * are dropped, except the first chunk of a stream that gave kwik nothing yet: that chunk opens
   * the stream at the peer.
   */
  @Override
  public void reset(long applicationErrorCode) {
    abandon(applicationErrorCode, true);
  }

  /**
   * RESET_STREAM only: the receiving side stays unread, and kwik keeps the stream's MAX_STREAMS
   * slot until {@link #reset} or {@link #stopSending} ends that side too.
   */
  @Override
  public boolean resetSending(long applicationErrorCode) {
    abandon(applicationErrorCode, false);
    return true;
  }

  /** kwik frees the stream as soon as the peer's RESET_STREAM ends its unread receiving side. */
  @Override
  public boolean holdsSlot() {
    synchronized (this) {
      if (!receivingHeld) {
        return false;
      }
    }
    return !KwikInternals.inputClosed(kwik);
  }

  private void abandon(long applicationErrorCode, boolean receivingToo) {
    boolean sendReset;
    boolean abortReading;
    ByteBuffer opening = null;
    boolean frameComing;
    boolean releaseSlot;
    synchronized (this) {
      releaseSlot = receivingToo && receivingHeld && !inboundEnded;
      receivingHeld = !receivingToo && !inboundEnded;
      sendReset = !outboundEnded;
      if (sendReset) {
        resetByUs = true;
        if (local && !handedToKwik && !writeQueue.isEmpty()) {
          opening = writeQueue.peek();
          handedToKwik = true;
        }
      }
      frameComing = local && handedToKwik;
      resetWaiting = frameComing;
      outboundEnded = true;
      writeQueue.clear();
      queuedBytes = 0;
      abortReading = receivingToo && !inboundEnded;
      if (abortReading) {
        stoppedByUs = true;
        inboundEnded = true;
      }
    }
    connection.stopSendingWatch().unwatch(this);
    if (opening != null) {
      handOver(opening);
    }
    Runnable resetInKwik = () -> {
      sendAbandoned = true;
      if (sendReset) {
        // On kwik's sender thread: kwik's reset empties the send buffer that the sender may be
        // cutting a STREAM frame from (SendBuffer.getStreamFrame peeks after isEmpty), and a
        // NullPointerException there aborts the connection without telling anyone
        // (KwikEngineBehaviourTest.streamsResetWhileBusyAreLetGo once failed so in CI).
        connection.onSenderThread(() -> kwik.resetStream(applicationErrorCode));
      }
      if (abortReading) {
        abortKwikReading(applicationErrorCode);
      }
      if (releaseSlot) {
        connection.flushSoon(); // the MAX_STREAMS this slot makes due
      }
      synchronized (this) {
        resetWaiting = false;
      }
      connection.streamMaybeDone(this);
    };
    boolean deferred = frameComing && (sendReset || abortReading)
        && connection.frameLog().deferUntilPeerHasFrame(id(), () -> runElsewhere(resetInKwik));
    if (deferred) {
      // An ACK comes within an RTT and the peer's ack delay; should it have been missed, wait
      // no longer than a few of those.
      long waitMillis = Math.max(ACK_WAIT_MIN_MILLIS, 4L * connection.smoothedRttMillis());
      ConnectionTicker.TIMER.schedule(() -> connection.frameLog().runWaitingNow(id()),
          waitMillis, TimeUnit.MILLISECONDS);
    } else {
      resetInKwik.run();
    }
  }

  /** Gives kwik the first chunk of {@code data} (it has room: nothing of ours is buffered yet). */
  private void handOver(ByteBuffer data) {
    try {
      writeChunk(kwik.getOutputStream(), data.duplicate());
      connection.guard().watch(this);
    } catch (IOException e) {
      // kwik reset the stream already (the peer's STOP_SENDING): no frame will leave.
      connection.frameLog().runWaitingNow(id());
    }
  }

  /** Hands kwik up to {@link #WRITE_CHUNK} bytes of {@code data} (may block); returns how many. */
  private static int writeChunk(OutputStream out, ByteBuffer data) throws IOException {
    int n = Math.min(data.remaining(), WRITE_CHUNK);
    if (data.hasArray()) {
      out.write(data.array(), data.arrayOffset() + data.position(), n);
      data.position(data.position() + n);
    } else {
      byte[] chunk = new byte[n];
      data.get(chunk);
      out.write(chunk, 0, n);
    }
    return n;
  }

  private void runElsewhere(Runnable task) {
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      task.run();
    }
  }

  /**
   * STOP_SENDING at once, even before the stream's first frame: a kwik peer then drops it, which
   * costs nothing here (a request stream we stop reading also ends by FIN or reset, which the peer
   * does see). Waiting for the frame, as {@link #reset} does, made a kwik server hand the stream's
   * slot back later.
   */
  @Override
  public void stopSending(long applicationErrorCode) {
    boolean releaseSlot;
    synchronized (this) {
      if (inboundEnded) {
        return;
      }
      releaseSlot = receivingHeld;
      receivingHeld = false;
      stoppedByUs = true;
      inboundEnded = true;
    }
    abortKwikReading(applicationErrorCode);
    if (releaseSlot) {
      connection.flushSoon(); // the MAX_STREAMS this slot makes due
    }
    connection.streamMaybeDone(this);
  }

  /** STOP_SENDING through kwik, and the connection window back for what it discards. */
  private void abortKwikReading(long applicationErrorCode) {
    // Never InputStream.close(): that sends STOP_SENDING with code 0, invalid in HTTP/3.
    kwik.abortReading(applicationErrorCode);
    AbandonedInputCredit.give(kwik.getInputStream());
  }

  /** Interrupts the reader if one runs (see {@link ReadWakeupWatch}). */
  synchronized void wakeReader() {
    if (readerThread != null) {
      readerThread.interrupt();
    }
  }

  InputStream kwikInput() {
    return kwik.getInputStream();
  }

  /** The connection ended: ends both sides and tells the handler unless a terminal event was sent. */
  void connectionClosed(ConnectionCloseInfo info) {
    synchronized (this) {
      inboundEnded = true;
      outboundEnded = true;
      resetWaiting = false; // no acknowledgement comes any more
      writeQueue.clear();
      queuedBytes = 0;
    }
    sendAbandoned = true;
    deliverTerminal(h -> h.onConnectionClosed(info));
  }

  synchronized boolean isDone() {
    return inboundEnded && outboundEnded && !readerRunning && !writerRunning && !resetWaiting;
  }

  private void deliverTerminal(java.util.function.Consumer<StreamHandler> event) {
    synchronized (this) {
      if (terminalDelivered) {
        return;
      }
      terminalDelivered = true;
      abortDelivered = true;
    }
    events.execute(() -> event.accept(handler));
  }

  private void deliverEndOfStream() {
    synchronized (this) {
      if (terminalDelivered) {
        return;
      }
      terminalDelivered = true;
    }
    events.execute(() -> handler.onEndOfStream());
  }

  /** kwik reset our output because the peer sent STOP_SENDING (seen by a write or the watch). */
  void outputResetByKwik() {
    boolean report;
    synchronized (this) {
      if (resetByUs || outputResetSeen) {
        return;
      }
      outputResetSeen = true;
      // After a terminal event (the peer's reset) the handler hears nothing more; the sending
      // side ends all the same, or the stream would never be done.
      report = !abortDelivered;
      outboundEnded = true;
      writeQueue.clear();
      queuedBytes = 0;
    }
    sendAbandoned = true;
    connection.stopSendingWatch().unwatch(this);
    if (report) {
      events.execute(() -> handler.onStopSending(-1));
    }
    connection.streamMaybeDone(this);
  }

  /** The stream and its state, for logs. */
  synchronized String describe() {
    return "stream " + id() + (inboundEnded ? " in:ended" : " in:open")
        + (readerRunning ? "+reading" : "") + " credit " + credit
        + (outboundEnded ? " out:ended" : " out:open")
        + (writerRunning ? "+writing" : "") + " queued " + queuedBytes
        + (resetWaiting ? " reset-waiting" : "")
        + (connection.frameLog().peerResetCode(id()) >= 0 ? " reset-by-peer-seen" : "")
        + (ReadWakeupWatch.inputEnded(kwik.getInputStream()) ? " kwik-input-ended" : "");
  }

  @Override
  public String toString() {
    return "KwikStream[" + id() + "]";
  }
}
