package dev.grpcquic.engine.kwik;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import tech.kwik.core.frame.PingFrame;
import tech.kwik.core.impl.QuicConnectionImpl;

/**
 * Sends a PING from the client when request streams are open and nothing has arrived from the
 * server for a while.
 *
 * <p>Why: after a NAT rebinding the server's packets go to the client's old address and are lost;
 * the server learns the new address only from the client's next packet. A client that is waiting
 * for data and has nothing unacknowledged of its own sends nothing (acknowledgements are not
 * retransmitted), so without a probe the call waits for the idle timeout. The PING is
 * ack-eliciting, so kwik keeps retransmitting it until the server answers. Chromium's QUIC stack
 * does the same with open streams (its "retransmittable on wire" and ping timeouts).
 *
 * <p>The receive clock is fed by {@link ClientDatagramSocket} on kwik's receiver thread; the check
 * runs on the connection's tick ({@link ConnectionTicker}).
 */
final class QuietPathProbe {

  private static final Logger LOG = Logger.getLogger(QuietPathProbe.class.getName());

  private final long quietNanos;
  private volatile long lastReceiveNanos = System.nanoTime();
  private volatile long lastProbeNanos = System.nanoTime();
  private volatile ConnectionTicker.Check task;

  QuietPathProbe(Duration quiet) {
    this.quietNanos = quiet.toNanos();
  }

  /** A datagram arrived from the server. */
  void received() {
    lastReceiveNanos = System.nanoTime();
  }

  /** Starts checking {@code connection}; does nothing when the quiet time is zero. */
  void start(KwikConnection connection, QuicConnectionImpl kwik, ConnectionTicker ticker) {
    if (quietNanos <= 0) {
      return;
    }
    long period = Math.max(TimeUnit.MILLISECONDS.toNanos(20), quietNanos / 4);
    task = ticker.every(period, false, () -> {
      if (connection.isClosingOrClosed()) {
        stop();
        return;
      }
      long now = System.nanoTime();
      if (now - lastReceiveNanos >= quietNanos && now - lastProbeNanos >= quietNanos
          && connection.hasOpenRequestStream()) {
        lastProbeNanos = now;
        if (LOG.isLoggable(Level.FINE)) {
          LOG.log(Level.FINE, "calls in flight and nothing received for {0} ms: PING ({1})",
              new Object[] {TimeUnit.NANOSECONDS.toMillis(now - lastReceiveNanos),
                  connection.describeRequestStreams()});
        }
        kwik.send(new PingFrame(), frame -> { }, true);
      }
    });
  }

  void stop() {
    ConnectionTicker.Check t = task;
    if (t != null) {
      t.cancel();
    }
  }
}
