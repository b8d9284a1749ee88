package dev.grpcquic.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The limiter's arithmetic, on a clock the test moves. */
@Timeout(10)
class AdaptiveConcurrencyLimiterTest {
  private static final long MS = 1_000_000;
  private final AtomicLong clock = new AtomicLong();
  private final AdaptiveConcurrencyLimiter limiter = new AdaptiveConcurrencyLimiter(
      new AdaptiveConcurrencyLimit(Duration.ofMillis(100), 0.95, 20, 2, 40,
          Duration.ofMillis(100), 10), clock::get);

  /**
   * One window of ten calls of this latency, run {@code concurrent} at a time (the last group
   * may be smaller); the window ends with the tenth.
   */
  private void window(int concurrent, long latencyMillis) {
    clock.addAndGet(100 * MS);
    int done = 0;
    while (done < 10) {
      int group = Math.min(concurrent, 10 - done);
      for (int i = 0; i < group; i++) {
        assertTrue(limiter.tryAcquire(), "slot " + i + " of " + limiter);
      }
      for (int i = 0; i < group; i++) {
        limiter.release(latencyMillis * MS);
      }
      done += group;
    }
    assertEquals(0, limiter.inFlight());
  }

  /** Takes every slot, then ends a window of ten calls of this latency. */
  private void fillThenWindow(long latencyMillis) {
    int limit = limiter.limit();
    for (int i = 0; i < limit; i++) {
      assertTrue(limiter.tryAcquire());
    }
    assertFalse(limiter.tryAcquire());
    while (limiter.inFlight() > 0) {
      limiter.releaseWithoutSample();
    }
    window(10, latencyMillis);
  }

  @Test
  void refusesAboveTheLimitAndCountsIt() {
    for (int i = 0; i < 20; i++) {
      assertTrue(limiter.tryAcquire());
    }
    assertFalse(limiter.tryAcquire());
    assertEquals(1, limiter.rejected());
    limiter.releaseWithoutSample();
    assertTrue(limiter.tryAcquire());
  }

  @Test
  void latencyOverTheTargetLowersTheLimitInProportionBoundedToHalf() {
    window(10, 125); // target / p = 0.8
    assertEquals(16, limiter.limit());
    window(10, 1000); // far over: halved, not more
    assertEquals(8, limiter.limit());
    window(8, 101); // just over: at most 0.9
    assertEquals(7, limiter.limit());
    for (int i = 0; i < 10; i++) {
      window(Math.min(10, limiter.limit()), 1000);
    }
    assertEquals(2, limiter.limit(), "never below minLimit");
  }

  @Test
  void latencyUnderTheTargetRaisesAUsedLimitOnly() {
    window(10, 50); // 10 of 20 in use: the limit did not matter, unchanged
    assertEquals(20, limiter.limit());
    fillThenWindow(50); // 20 of 20 in use: + 1 + 20/20
    assertEquals(22, limiter.limit());
    for (int i = 0; i < 20; i++) {
      fillThenWindow(50);
    }
    assertEquals(40, limiter.limit(), "never above maxLimit");
  }

  @Test
  void between60And100PercentOfTheTargetTheLimitHolds() {
    fillThenWindow(70);
    assertEquals(20, limiter.limit());
    fillThenWindow(100);
    assertEquals(20, limiter.limit());
    fillThenWindow(60);
    assertEquals(22, limiter.limit());
  }

  @Test
  void callsAdmittedBeforeADecreaseDoNotJudgeTheNewLimit() {
    for (int i = 0; i < 20; i++) {
      assertTrue(limiter.tryAcquire());
    }
    clock.addAndGet(100 * MS);
    for (int i = 0; i < 10; i++) {
      limiter.release(1000 * MS);
    }
    assertEquals(10, limiter.limit());
    // The other ten were admitted under the old limit: just as slow, and no second decrease.
    clock.addAndGet(100 * MS);
    for (int i = 0; i < 10; i++) {
      limiter.release(1000 * MS);
    }
    assertEquals(10, limiter.limit());
    assertEquals(0, limiter.inFlight());
    // Calls admitted under the new limit decide again.
    window(10, 1000);
    assertEquals(5, limiter.limit());
  }

  @Test
  void thePercentileDecides() {
    // 9 fast calls and one slow: p95 of ten is the slowest (ceil(9.5) = 10th).
    for (int i = 0; i < 20; i++) {
      assertTrue(limiter.tryAcquire());
    }
    clock.addAndGet(100 * MS);
    for (int i = 0; i < 9; i++) {
      limiter.release(10 * MS);
    }
    limiter.release(200 * MS);
    assertEquals(200 * MS, limiter.lastWindowPercentileNanos());
    assertEquals(10, limiter.limit());
  }

  @Test
  void aWindowNeedsItsTimeAndItsCalls() {
    for (int i = 0; i < 20; i++) {
      assertTrue(limiter.tryAcquire());
    }
    for (int i = 0; i < 15; i++) {
      limiter.release(1000 * MS); // enough calls, not enough time
    }
    assertEquals(20, limiter.limit());
    assertEquals(-1, limiter.lastWindowPercentileNanos());
    clock.addAndGet(100 * MS);
    limiter.release(1000 * MS);
    assertEquals(10, limiter.limit());
  }

  @Test
  void samplesReachTheListeners() {
    AtomicLong seen = new AtomicLong();
    limiter.addSampleListener(seen::addAndGet);
    assertTrue(limiter.tryAcquire());
    limiter.release(7 * MS);
    assertEquals(7 * MS, seen.get());
  }

  @Test
  void settingsAreChecked() {
    assertThrows(IllegalArgumentException.class,
        () -> AdaptiveConcurrencyLimit.of(Duration.ZERO, 0.95));
    assertThrows(IllegalArgumentException.class,
        () -> AdaptiveConcurrencyLimit.of(Duration.ofMillis(1), 1.0));
    assertThrows(IllegalArgumentException.class, () -> new AdaptiveConcurrencyLimit(
        Duration.ofMillis(1), 0.5, 1, 2, 3, Duration.ZERO, 1));
  }
}
