package dev.grpcquic.admission;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import javax.annotation.concurrent.GuardedBy;

/**
 * A concurrency limit that follows measured latency: AIMD against a latency target.
 *
 * <p>Every call takes a slot ({@link #tryAcquire}) and gives it back with its latency ({@link
 * #release}). Completed calls are judged in windows (at least {@code window} long and {@code
 * windowCalls} calls). At the end of a window, with p the window's latency at the configured
 * percentile:
 *
 * <ul>
 *   <li>p above the target: multiplicative decrease, limit x max(0.5, min(0.9, target / p)), so a
 *       limit far too high comes down in a few windows and one just too high by a little;
 *   <li>p at most 60 % of the target and the limit was used (calls in flight reached 80 % of it
 *       during the window): additive increase, limit + 1 (+ a twentieth of the limit, so a large
 *       limit is not probed one call at a time);
 *   <li>otherwise unchanged: between 60 % and 100 % of the target the limit holds (without this
 *       band AIMD settles where half the windows are over the target, so the run's percentile
 *       is too; and the margin below the target absorbs a service that gets slower before the
 *       next window can tell, such as a worker losing CPU to other processes); and a server not
 *       busy enough for the limit to matter does not let it drift up to where the next burst
 *       would overload.
 * </ul>
 *
 * <p>After a decrease, the calls still in flight were admitted under the old limit: their
 * latencies are not samples of the new one, and judging the next window on them decreased the
 * limit a second time for the same overload. So the next window starts after as many calls as
 * were in flight have ended.
 *
 * Thread-safe; all state is under one monitor, held for no more than a window's sort.
 */
public final class AdaptiveConcurrencyLimiter {
  /** A window never holds more samples than this; past it, it closes early. */
  static final int MAX_WINDOW_SAMPLES = 4096;
  private static final double USED_FRACTION = 0.8;
  /** Below this fraction of the target, a used limit rises; up to the target, it holds. */
  private static final double HEADROOM = 0.6;

  private final AdaptiveConcurrencyLimit config;
  private final long targetNanos;
  private final LongSupplier clock;
  private final List<LongConsumer> sampleListeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> limitListeners = new CopyOnWriteArrayList<>();

  private final Object lock = new Object();
  @GuardedBy("lock") private double limit;
  @GuardedBy("lock") private int inFlight;
  @GuardedBy("lock") private int maxInFlightInWindow;
  @GuardedBy("lock") private long[] samples = new long[64];
  @GuardedBy("lock") private int sampleCount;
  @GuardedBy("lock") private long windowStart;
  @GuardedBy("lock") private long rejected;
  @GuardedBy("lock") private long admitted;
  @GuardedBy("lock") private long lastPercentileNanos = -1;
  /** Calls admitted before the last decrease that have yet to end: not samples of the limit. */
  @GuardedBy("lock") private int staleCalls;

  public AdaptiveConcurrencyLimiter(AdaptiveConcurrencyLimit config) {
    this(config, System::nanoTime);
  }

  /** With a clock of nanoseconds (tests). */
  AdaptiveConcurrencyLimiter(AdaptiveConcurrencyLimit config, LongSupplier clock) {
    this.config = config;
    this.targetNanos = config.latencyTarget().toNanos();
    this.clock = clock;
    this.limit = config.initialLimit();
    this.windowStart = clock.getAsLong();
  }

  public AdaptiveConcurrencyLimit config() {
    return config;
  }

  /** Takes a slot for a new call; false (and counted as rejected) when the limit is reached. */
  public boolean tryAcquire() {
    synchronized (lock) {
      if (inFlight >= (int) limit) {
        rejected++;
        return false;
      }
      inFlight++;
      admitted++;
      maxInFlightInWindow = Math.max(maxInFlightInWindow, inFlight);
      return true;
    }
  }

  /** Gives back a call's slot with the call's latency, which the limit then follows. */
  public void release(long latencyNanos) {
    boolean limitChanged = false;
    synchronized (lock) {
      inFlight--;
      long now = clock.getAsLong();
      if (staleCalls > 0) {
        staleCalls--;
        if (staleCalls == 0) {
          windowStart = now;
          maxInFlightInWindow = inFlight;
        }
      } else {
        if (sampleCount == samples.length) {
          samples = Arrays.copyOf(samples, samples.length * 2);
        }
        samples[sampleCount++] = latencyNanos;
      }
      if ((sampleCount >= config.windowCalls()
          && now - windowStart >= config.window().toNanos())
          || sampleCount >= MAX_WINDOW_SAMPLES) {
        int before = (int) limit;
        endWindow(now);
        limitChanged = (int) limit != before;
      }
    }
    for (LongConsumer listener : sampleListeners) {
      listener.accept(latencyNanos);
    }
    if (limitChanged) {
      for (Runnable listener : limitListeners) {
        listener.run();
      }
    }
  }

  /** Gives back a slot without a latency sample (a call that never ran: nothing to learn). */
  public void releaseWithoutSample() {
    synchronized (lock) {
      inFlight--;
      staleCalls = Math.min(staleCalls, inFlight);
    }
  }

  @GuardedBy("lock")
  private void endWindow(long now) {
    long[] window = Arrays.copyOf(samples, sampleCount);
    Arrays.sort(window);
    int index = (int) Math.ceil(config.percentile() * window.length) - 1;
    long p = window[Math.max(0, Math.min(window.length - 1, index))];
    lastPercentileNanos = p;
    if (p > targetNanos) {
      double factor = Math.max(0.5, Math.min(0.9, (double) targetNanos / p));
      limit = Math.max(config.minLimit(), limit * factor);
      staleCalls = inFlight;
    } else if (p <= HEADROOM * targetNanos
        && maxInFlightInWindow >= USED_FRACTION * (int) limit) {
      limit = Math.min(config.maxLimit(), limit + 1 + limit / 20);
    }
    sampleCount = 0;
    if (samples.length > 1024) {
      samples = new long[64];
    }
    windowStart = now;
    maxInFlightInWindow = inFlight;
  }

  /** Calls admitted at once now. */
  public int limit() {
    synchronized (lock) {
      return (int) limit;
    }
  }

  public int inFlight() {
    synchronized (lock) {
      return inFlight;
    }
  }

  /** Calls refused so far. */
  public long rejected() {
    synchronized (lock) {
      return rejected;
    }
  }

  /** Calls admitted so far. */
  public long admitted() {
    synchronized (lock) {
      return admitted;
    }
  }

  /** The configured percentile of the last completed window's latencies, -1 before the first. */
  public long lastWindowPercentileNanos() {
    synchronized (lock) {
      return lastPercentileNanos;
    }
  }

  /** Told every latency sample the limiter takes (the metrics export the same measurements). */
  public void addSampleListener(LongConsumer listener) {
    sampleListeners.add(listener);
  }

  /**
   * Told (on the thread of the call that closed the window, outside the limiter's lock) each time
   * the limit changes; must not block.
   */
  public void addLimitListener(Runnable listener) {
    limitListeners.add(listener);
  }

  @Override
  public String toString() {
    synchronized (lock) {
      return "AdaptiveConcurrencyLimiter(limit=" + (int) limit + ", inFlight=" + inFlight
          + ", rejected=" + rejected + ")";
    }
  }
}
