package dev.grpcquic.engine.kwik;

import dev.grpcquic.engine.ConnectionCloseInfo;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Tells a client connection that kwik aborted it. kwik 0.10.8 ends a client connection on an
 * exception in its sender or receiver thread with {@code abortConnection}, which stops the sender
 * and marks the connection closed but tells no listener: calls on it would wait for their
 * deadlines and new streams fail with "not connected" while the transport believes it healthy.
 *
 * <p>Every orderly end passes through a closing or draining state and reports itself on kwik's
 * callback thread before the state becomes "Closed"; an abort goes straight to "Error" then
 * "Closed". The watch looks at the state every {@link #PERIOD_MILLIS}: ended on two looks in a row
 * while no end was reported (the report of an orderly end may still be on its way at the first)
 * is an abort.
 */
final class AbortWatch {

  private static final Logger LOG = Logger.getLogger(AbortWatch.class.getName());
  static final long PERIOD_MILLIS = 250;

  private final tech.kwik.core.QuicConnection kwik;
  private final Supplier<String> cause;
  private final Consumer<ConnectionCloseInfo> onAbort;
  private volatile ConnectionTicker.Check check;
  private boolean endSeen; // touched by the tick only

  /** {@code cause}: kwik's last error, as its logger heard it (may give null). */
  AbortWatch(tech.kwik.core.QuicConnection kwik, Supplier<String> cause,
      Consumer<ConnectionCloseInfo> onAbort) {
    this.kwik = kwik;
    this.cause = cause;
    this.onAbort = onAbort;
  }

  void start(ConnectionTicker ticker) {
    check = ticker.every(TimeUnit.MILLISECONDS.toNanos(PERIOD_MILLIS), false, this::look);
  }

  void stop() {
    ConnectionTicker.Check c = check;
    if (c != null) {
      c.cancel();
    }
  }

  /** One look; package-private for tests. */
  void look() {
    if (!ended()) {
      endSeen = false;
      return;
    }
    if (!endSeen) {
      endSeen = true;
      return;
    }
    stop();
    String why = cause.get();
    String description = "kwik aborted the connection"
        + (why == null ? " (internal error)" : ": " + why);
    LOG.log(Level.WARNING, description);
    onAbort.accept(new ConnectionCloseInfo(ConnectionCloseInfo.Reason.LOST, false, -1, -1,
        description));
  }

  private boolean ended() {
    Object state;
    try {
      state = KwikPrivateAccess.CONNECTION_STATE.get(kwik);
    } catch (IllegalAccessException | RuntimeException e) {
      return false; // reported once by KwikPrivateAccess: the watch is off
    }
    String name = String.valueOf(state);
    return "Error".equals(name) || "Closed".equals(name);
  }
}
