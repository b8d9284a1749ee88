package dev.grpcquic.bench;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * One direction of an emulated path: every action runs a fixed delay after it was submitted, in
 * submission order, on the line's own daemon thread. With a constant delay FIFO order is also
 * deadline order, so the thread only ever waits for the head.
 */
final class DelayLine implements AutoCloseable {
  private record Item(long dueNanos, Runnable action) {}

  private final long delayNanos;
  private final LinkedBlockingQueue<Item> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  private volatile boolean closed;

  DelayLine(String name, long delayNanos) {
    this.delayNanos = delayNanos;
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
    thread.start();
  }

  void submit(Runnable action) {
    queue.add(new Item(System.nanoTime() + delayNanos, action));
  }

  private void run() {
    try {
      while (!closed) {
        Item item = queue.take();
        long wait;
        while ((wait = item.dueNanos - System.nanoTime()) > 0) {
          LockSupport.parkNanos(wait); // emulated propagation delay, not synchronisation
        }
        try {
          item.action.run();
        } catch (RuntimeException e) {
          // a closed socket at teardown: drop
        }
      }
    } catch (InterruptedException e) {
      // closed
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
  }
}
