package dev.grpcquic.engine.kwik;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One periodic tick per kwik connection that runs the connection's periodic checks: the
 * send-stall guard, the STOP_SENDING and read wake-up watches, the session-ticket poll, the
 * keep-alive and the quiet-path probe. Each check keeps its own period, a multiple of the tick
 * or longer; it runs on the first tick at which its period has passed since its last run (within
 * half a tick), as {@code scheduleWithFixedDelay} would have run it.
 *
 * <p>Why one tick: each check used to be its own task on the shared timer, up to six per client
 * connection and three per server connection, with as many timer wake-ups. The checks of one
 * connection never ran at the same time before either (one timer thread), and one that throws no
 * longer stops the others.
 *
 * <p>All connections share {@link #TIMER}, one daemon thread; kwik's own threads are apart.
 */
final class ConnectionTicker {

  private static final Logger LOG = Logger.getLogger(ConnectionTicker.class.getName());
  /** The tick: the send-stall guard's period, the shortest of the checks. */
  static final long TICK_MILLIS = 10;
  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(TICK_MILLIS);

  /**
   * The adapter's timer thread, shared by all kwik connections (its name is older than the
   * ticker). Cancelled ticks leave its queue at once, so the queue holds one tick per live
   * connection plus pending one-shot tasks.
   */
  static final ScheduledThreadPoolExecutor TIMER = newTimer();

  private final CopyOnWriteArrayList<Check> checks = new CopyOnWriteArrayList<>();
  /** The tick while it runs: from the first check on, until stopped with no check left. */
  private ScheduledFuture<?> tick; // guarded by this
  private volatile boolean stopping;
  /** False for tests that call {@link #runDue} themselves. */
  private final boolean scheduled;

  ConnectionTicker() {
    this(true);
  }

  ConnectionTicker(boolean scheduled) {
    this.scheduled = scheduled;
  }

  private static ScheduledThreadPoolExecutor newTimer() {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
        KwikExecutors.daemonThreadFactory("grpc-quic-kwik-send-guard"));
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }

  /**
   * Runs {@code check} every {@code periodNanos} (at least one tick), the first time one period
   * from now, or at the next tick when {@code runSoon}; until the returned check is cancelled.
   * A check added after {@link #stop} runs too, until it cancels itself.
   */
  synchronized Check every(long periodNanos, boolean runSoon, Runnable check) {
    long period = Math.max(TICK_NANOS, periodNanos);
    Check registered = new Check(period, check, System.nanoTime() + (runSoon ? 0 : period));
    checks.add(registered);
    if (tick == null && scheduled) {
      tick = TIMER.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS,
          TimeUnit.MILLISECONDS);
    }
    return registered;
  }

  /**
   * The connection ended: the tick ends once its checks are cancelled (the session-ticket poll
   * makes its last run after the end).
   */
  void stop() {
    stopping = true;
    endIfIdle();
  }

  /** Whether the tick runs (for tests). */
  synchronized boolean ticking() {
    return tick != null;
  }

  /** How many checks are registered (for tests). */
  int checkCount() {
    return checks.size();
  }

  private synchronized void endIfIdle() {
    if (stopping && checks.isEmpty() && tick != null) {
      tick.cancel(false);
      tick = null;
    }
  }

  private void tick() {
    runDue(System.nanoTime());
  }

  /** Runs the checks that are due at {@code now}. */
  void runDue(long now) {
    for (Check check : checks) {
      // Half a tick early is on time: the tick itself comes a little later each time.
      if (now - check.due >= -TICK_NANOS / 2) {
        check.due = now + check.periodNanos;
        try {
          check.task.run();
        } catch (RuntimeException e) {
          LOG.log(Level.FINE, "a kwik connection check failed", e);
        }
      }
    }
    if (stopping) {
      endIfIdle();
    }
  }

  /** A registered check. */
  final class Check {
    private final long periodNanos;
    private final Runnable task;
    /** When it runs next; read and written on the timer thread only (and at registration). */
    private volatile long due;

    private Check(long periodNanos, Runnable task, long due) {
      this.periodNanos = periodNanos;
      this.task = task;
      this.due = due;
    }

    void cancel() {
      checks.remove(this);
    }
  }
}
