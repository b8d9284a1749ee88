package dev.grpcquic.engine;

import java.util.function.IntSupplier;

/**
 * The highest rate at which the application read a connection's stream data, over intervals about
 * one smoothed RTT long (at least {@link #MIN_INTERVAL_NANOS}). kwik counts no received bytes, so
 * each engine adapter counts what the transport reads from it. Over one RTT a window-limited sender
 * delivers about one window, so peak rate x RTT estimates what the path carried per round trip:
 * the bandwidth-delay product, or the window when the window was the limit.
 */
public final class DeliveryRateMeter {
  /** Shorter intervals measure bursts of the scheduler rather than the path. */
  static final long MIN_INTERVAL_NANOS = 10_000_000L;

  private final IntSupplier smoothedRttMillis;
  // Guarded by this.
  private long intervalStart;
  private long intervalNanos;
  private long intervalBytes;
  private long totalBytes;
  private double peakBytesPerSecond;

  public DeliveryRateMeter(IntSupplier smoothedRttMillis) {
    this.smoothedRttMillis = smoothedRttMillis;
  }

  public void onBytesRead(long bytes) {
    onBytesRead(bytes, System.nanoTime());
  }

  synchronized void onBytesRead(long bytes, long nowNanos) {
    totalBytes += bytes;
    if (intervalNanos == 0) {
      startInterval(nowNanos, bytes);
      return;
    }
    long elapsed = nowNanos - intervalStart;
    if (elapsed < intervalNanos) {
      intervalBytes += bytes;
      return;
    }
    // An interval that ran much longer than planned was idle for most of it: it says little.
    if (elapsed <= 2 * intervalNanos) {
      peakBytesPerSecond = Math.max(peakBytesPerSecond, intervalBytes * 1e9 / elapsed);
    }
    startInterval(nowNanos, bytes);
  }

  private void startInterval(long nowNanos, long bytes) {
    intervalStart = nowNanos;
    intervalBytes = bytes;
    intervalNanos = Math.max(MIN_INTERVAL_NANOS, smoothedRttMillis.getAsInt() * 1_000_000L);
  }

  public synchronized double peakBytesPerSecond() {
    return peakBytesPerSecond;
  }

  public synchronized long totalBytes() {
    return totalBytes;
  }
}
