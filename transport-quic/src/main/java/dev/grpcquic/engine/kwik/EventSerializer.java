package dev.grpcquic.engine.kwik;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Runs the events of one stream one at a time, in submission order, on whichever thread submits
 * while no other thread is draining (no thread of its own, no blocking). Events stay queued until
 * {@link #open()} is called, so a peer stream's handler sees nothing before it is installed.
 */
final class EventSerializer {

  private static final Logger LOG = Logger.getLogger(EventSerializer.class.getName());

  private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean draining = new AtomicBoolean();
  private volatile boolean open;

  void open() {
    open = true;
    drain();
  }

  void execute(Runnable event) {
    queue.add(event);
    drain();
  }

  private void drain() {
    while (open && !queue.isEmpty() && draining.compareAndSet(false, true)) {
      try {
        Runnable event;
        while ((event = queue.poll()) != null) {
          try {
            event.run();
          } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "stream handler threw", e);
          }
        }
      } finally {
        draining.set(false);
      }
    }
  }
}
