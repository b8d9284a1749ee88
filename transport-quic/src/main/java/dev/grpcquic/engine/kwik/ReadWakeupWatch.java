package dev.grpcquic.engine.kwik;

import java.io.InputStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Repairs a lost wake-up in kwik 0.10.8's blocking stream read. {@code StreamInputStreamImpl.read}
 * first checks whether the stream's input ended (aborted by us, reset by the peer, or closed), and
 * only then registers as the blocked reader that such an end interrupts. An end that comes in
 * between finds no reader to interrupt, and the read then waits with no timeout: the reader's
 * thread is held for good, the stream is never let go (a client's quiet-path probe then keeps the
 * connection out of idle), and a server call never learns that its client cancelled it.
 *
 * <p>Every {@link #TICK_MILLIS} ms this watch reads the input's private end flags ({@link
 * KwikPrivateAccess}) of each stream whose reader is running, and interrupts the reader of one that
 * ended; kwik's read takes an interrupt as a reason to look again, sees the end and throws.
 * Without the fields it does nothing.
 */
final class ReadWakeupWatch {
  private static final Logger LOG = Logger.getLogger(ReadWakeupWatch.class.getName());
  static final long TICK_MILLIS = 20;
  private static final KwikPrivateAccess.PrivateField[] ENDED =
      KwikPrivateAccess.READ_WAKEUP_WATCH.active()
          ? new KwikPrivateAccess.PrivateField[] {KwikPrivateAccess.INPUT_ABORTED,
              KwikPrivateAccess.INPUT_CLOSED, KwikPrivateAccess.INPUT_RESET}
          : null;

  private final Set<KwikStream> reading = ConcurrentHashMap.newKeySet();
  private final ConnectionTicker.Check tick;

  ReadWakeupWatch(ConnectionTicker ticker) {
    this.tick = ENDED == null ? null
        : ticker.every(TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS), false, this::tick);
  }

  void watch(KwikStream stream) {
    if (ENDED != null) {
      reading.add(stream);
    }
  }

  void unwatch(KwikStream stream) {
    reading.remove(stream);
  }

  void stop() {
    if (tick != null) {
      tick.cancel();
    }
    reading.clear();
  }

  private void tick() {
    for (KwikStream stream : reading) {
      try {
        if (ended(stream.kwikInput())) {
          stream.wakeReader(); // again each tick until the reader has left (it unwatches)
        }
      } catch (ReflectiveOperationException | RuntimeException e) {
        reading.remove(stream);
        LOG.log(Level.FINE, "cannot read the end flags of " + stream, e);
      }
    }
  }

  /** Whether kwik ended this input (false when that cannot be read). */
  static boolean inputEnded(InputStream in) {
    try {
      return ENDED != null && ended(in);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  private static boolean ended(InputStream in) throws ReflectiveOperationException {
    for (KwikPrivateAccess.PrivateField f : ENDED) {
      if (f.getBoolean(in)) {
        return true;
      }
    }
    return false;
  }
}
