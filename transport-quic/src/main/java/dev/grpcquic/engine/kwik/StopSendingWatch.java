package dev.grpcquic.engine.kwik;

import java.io.OutputStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Notices a peer's STOP_SENDING on streams that are not writing. kwik answers STOP_SENDING by
 * resetting the stream's output, and tells the application only when it next writes. A server
 * stream waiting for its handler's response (the request complete, FIN received) would never
 * learn that the client cancelled: after its FIN the client's RESET_STREAM is ignored by kwik, so
 * STOP_SENDING is all a cancelling client can send. Every {@link #TICK_MILLIS} ms this watch reads
 * the output's private reset flag ({@link KwikPrivateAccess}) of each stream whose sending side
 * is still open. Without the field it does nothing, and a STOP_SENDING shows at the next write.
 */
final class StopSendingWatch {
  private static final Logger LOG = Logger.getLogger(StopSendingWatch.class.getName());
  static final long TICK_MILLIS = 20;
  private static final KwikPrivateAccess.PrivateField RESET =
      KwikPrivateAccess.STOP_SENDING_WATCH.active() ? KwikPrivateAccess.OUTPUT_RESET : null;

  private final Set<KwikStream> watched = ConcurrentHashMap.newKeySet();
  private final ConnectionTicker.Check tick;

  StopSendingWatch(ConnectionTicker ticker) {
    this.tick = RESET == null ? null
        : ticker.every(TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS), false, this::tick);
  }

  void watch(KwikStream stream) {
    if (RESET != null) {
      watched.add(stream);
    }
  }

  void unwatch(KwikStream stream) {
    watched.remove(stream);
  }

  void stop() {
    if (tick != null) {
      tick.cancel();
    }
    watched.clear();
  }

  private void tick() {
    for (KwikStream stream : watched) {
      try {
        OutputStream out = stream.kwikOutput();
        if (RESET.getBoolean(out)) {
          watched.remove(stream);
          stream.outputResetByKwik();
        }
      } catch (ReflectiveOperationException | RuntimeException e) {
        watched.remove(stream);
        LOG.log(Level.FINE, "cannot read the reset flag of " + stream, e);
      }
    }
  }
}
