package dev.grpcquic.engine.kwik;

import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.common.EncryptionLevel;
import tech.kwik.core.impl.QuicConnectionImpl;
import tech.kwik.core.stream.FlowControlUpdateListener;
import tech.kwik.core.stream.RetransmitBuffer;
import tech.kwik.core.stream.SendBuffer;

/**
 * Works around kwik 0.10.8's send stall, from outside kwik.
 *
 * <p>The race, in {@code StreamOutputStreamImpl}: {@code scheduleSendStreamFrameRequest} reads its
 * counter of queued send requests, and when it reads 0 it first queues a request with the connection
 * and only then increments the counter. The sender thread can run that request in between: it
 * decrements the counter to -1, sends one frame, finds more data and calls the scheduling check
 * again, which now reads -1 and queues nothing. The caller then increments the counter back to 0.
 * Result: data in the stream's send buffer, counter 0, and no request queued. Nothing sends it until
 * the next call of the scheduling check (the next write, a MAX_STREAM_DATA, a loss). If the writer is
 * blocked on a full 50 KiB buffer, or has written its last bytes and FIN, nothing comes: the stream
 * stalls until the idle timeout. Every caller of the check can lose the race this way: a write, the
 * FIN ({@code close()}), a flow-control unblock on the receiver thread, a retransmission.
 *
 * <p>The workaround: the state "counter 0 at rest" is exactly the stalled state whenever the stream
 * still holds unsent data, and running the scheduling check once more repairs it. Every
 * {@link #TICK_MILLIS} ms the connection's tick ({@link ConnectionTicker}) looks at its streams
 * that still have a sending side, and for each that holds unsent data (send buffer or retransmit
 * buffer not empty) while its counter reads 0, it runs the check through the stream's public
 * {@code FlowControlUpdateListener.streamNotBlocked} (which is exactly the scheduling check, works
 * after FIN too, and writes nothing), then wakes the connection's sender with an empty send request
 * (the check itself does not flush). A false positive (a request just about to be counted) costs one
 * superfluous send request, which kwik tolerates by design. A nudge that itself loses the race is
 * repaired by the next tick.
 *
 * <p>Why not a zero-length {@code write}: it is refused after FIN (IOException), and it appends an
 * empty buffer to kwik's send queue; when the queued bytes are exactly used up by a frame that empty
 * buffer stays at the head, and a later FIN marker behind it is never sent (kwik's frame builder
 * does not look past it when there are 0 bytes to send).
 *
 * <p>The guard reads three private fields of kwik's output stream ({@link KwikPrivateAccess}) to
 * see the unsent data and the counter (works on the class path). Without them (for example kwik on
 * the module path) it falls back to nudging every active stream on every tick, with back-off.
 */
final class SendStallGuard {

  private static final Logger LOG = Logger.getLogger(SendStallGuard.class.getName());

  static final long TICK_MILLIS = 10;
  /**
   * How long a stream stays watched after its FIN was handed to kwik and all was sent: long enough
   * for a lost last frame to be retransmitted (a few probe timeouts), short enough that a busy
   * connection does not scan thousands of finished streams every tick (which cost a busy unary
   * benchmark 40 % of its throughput with a fixed 2 s).
   */
  static final long MIN_FIN_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  /** Switch for tests that show the stall without the guard. */
  static volatile boolean enabled = true;
  /** How many times a stalled stream was nudged, over all connections (for tests and reports). */
  static final AtomicLong NUDGES = new AtomicLong();

  /** Whether the guard can read kwik's send state; without it, it nudges blindly. */
  private static final boolean PRECISE = KwikPrivateAccess.SEND_STALL_GUARD.active();

  private final QuicConnectionImpl connection;
  private final tech.kwik.core.QuicConnection kwikConnection;
  /** The FIN grace of the current tick: four smoothed RTTs, at least MIN_FIN_GRACE_NANOS. */
  private long finGraceNanos = MIN_FIN_GRACE_NANOS;
  /**
   * Streams watched. A queue, not a concurrent set: the tick walks it every 10 ms, and a hash
   * set that once held thousands of streams keeps its large table, which the walk then scans
   * (JFR showed 3.5 % of a benchmark's CPU there). Entries are added once per stream
   * ({@code KwikStream.guardEntry}) and removed by the tick's iterator.
   */
  private final java.util.concurrent.ConcurrentLinkedQueue<Watched> watched =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final ConnectionTicker.Check tick;

  SendStallGuard(tech.kwik.core.QuicConnection connection, ConnectionTicker ticker) {
    this.connection = connection instanceof QuicConnectionImpl impl ? impl : null;
    this.kwikConnection = connection;
    this.tick = ticker.every(TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS), false, this::tick);
  }

  /** Watches a stream's sending side from its first write on. Idempotent. */
  void watch(KwikStream stream) {
    if (enabled && stream.guardEntry == null) {
      Watched entry = new Watched(stream);
      stream.guardEntry = entry;
      watched.add(entry);
    }
  }

  void stop() {
    tick.cancel();
    watched.clear();
  }

  private void tick() {
    if (watched.isEmpty()) {
      return;
    }
    boolean flush = false;
    try {
      long now = System.nanoTime();
      finGraceNanos = Math.max(MIN_FIN_GRACE_NANOS,
          TimeUnit.MILLISECONDS.toNanos(4L * kwikConnection.getStats().smoothedRtt()));
      for (java.util.Iterator<Watched> it = watched.iterator(); it.hasNext(); ) {
        Watched entry = it.next();
        Outcome outcome = entry.check(now);
        if (outcome == Outcome.DONE) {
          it.remove();
        } else if (outcome == Outcome.NUDGED) {
          flush = true;
        }
      }
      if (flush && connection != null) {
        // streamNotBlocked does not wake the sender; an empty request with flush does.
        connection.send(size -> null, 1, EncryptionLevel.App, frame -> { }, true);
      }
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "send-stall guard tick failed", e);
    }
  }

  private enum Outcome { WATCHING, NUDGED, DONE }

  /**
   * Ticks skipped between looks at a stream whose FIN went out with nothing left unsent: it only
   * needs watching for a retransmission of its last frames, and looking at kwik's send queues is
   * not free (a busy benchmark had thousands of such streams in their grace period).
   */
  private static final int FINISHED_SKIP = 3;

  private final class Watched {
    final KwikStream stream;
    final OutputStream out;
    long lastBuffered = -1;
    long finishedSince = -1;
    int idleTicks;
    int backoff = 1;
    int skip;

    Watched(KwikStream stream) {
      this.stream = stream;
      this.out = stream.kwikOutput();
    }

    Outcome check(long now) {
      if (stream.sendAbandoned()) {
        return Outcome.DONE;
      }
      if (skip > 0) {
        skip--;
        return now - finishedSince > finGraceNanos ? Outcome.DONE : Outcome.WATCHING;
      }
      if (!PRECISE) {
        return blindCheck(now);
      }
      try {
        SendBuffer sendBuffer = (SendBuffer) KwikPrivateAccess.OUTPUT_SEND_BUFFER.get(out);
        RetransmitBuffer retransmit =
            (RetransmitBuffer) KwikPrivateAccess.OUTPUT_RETRANSMIT_BUFFER.get(out);
        AtomicInteger queued =
            (AtomicInteger) KwikPrivateAccess.OUTPUT_SEND_REQUESTS_QUEUED.get(out);
        boolean unsent = sendBuffer.hasData() || retransmit.hasDataToRetransmit();
        if (!unsent) {
          idleTicks = 0;
          backoff = 1;
          if (stream.finHandedToKwik()) {
            if (finishedSince < 0) {
              finishedSince = now;
            } else if (now - finishedSince > finGraceNanos) {
              return Outcome.DONE;
            }
            skip = FINISHED_SKIP;
          }
          return Outcome.WATCHING;
        }
        finishedSince = -1;
        if (queued.get() != 0) {
          idleTicks = 0;
          return Outcome.WATCHING;
        }
        // Unsent data and no request counted. A stream held back by flow control looks the same
        // (kwik parks it until MAX_STREAM_DATA); back off while nothing moves.
        long buffered = sendBuffer.getAvailableBytes();
        if (buffered == lastBuffered && ++idleTicks < backoff) {
          return Outcome.WATCHING;
        }
        backoff = buffered == lastBuffered ? Math.min(backoff * 2, 32) : 1;
        idleTicks = 0;
        lastBuffered = buffered;
        return nudge();
      } catch (ReflectiveOperationException | RuntimeException e) {
        return blindCheck(now);
      }
    }

    private Outcome blindCheck(long now) {
      if (stream.finHandedToKwik()) {
        if (finishedSince < 0) {
          finishedSince = now;
        } else if (now - finishedSince > finGraceNanos) {
          return Outcome.DONE;
        }
      }
      if (++idleTicks < backoff) {
        return Outcome.WATCHING;
      }
      idleTicks = 0;
      backoff = Math.min(backoff * 2, 8);
      return nudge();
    }

    private Outcome nudge() {
      if (out instanceof FlowControlUpdateListener listener) {
        NUDGES.incrementAndGet();
        if (LOG.isLoggable(Level.FINE)) {
          LOG.log(Level.FINE, "nudged stream {0} (unsent data, no send request queued)",
              stream.id());
        }
        listener.streamNotBlocked((int) stream.id());
        return Outcome.NUDGED;
      }
      return Outcome.WATCHING;
    }
  }
}
