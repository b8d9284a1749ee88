package dev.grpcquic.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grpcquic.engine.ConnectionStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The window formulas: budget fitting, the path memory, and BDP sizing within bounds. */
class WindowSizingTest {
  private static final int KIB = 1024;
  private static final int MIB = 1024 * KIB;

  private static ConnectionStats stats(int rttMillis, double rate) {
    return new ConnectionStats(rttMillis, 0, rttMillis, 0, 0, 0, 0, -1, -1, 0, rate, 0, 0);
  }

  @Test
  @Timeout(10)
  void budgetIsNeverExceededAndWindowsAreAsLargeAsItAllows() {
    long[] budgets = {32 * KIB, 100 * KIB, 1 * MIB, 40 * MIB, 200 * MIB, 4L << 30};
    int[] streamCounts = {1, 3, 100, 1010, 100_000};
    long[] wanted = {16 * KIB, 64 * KIB, MIB, 16 * MIB};
    for (long budget : budgets) {
      for (int streams : streamCounts) {
        for (long window : wanted) {
          ConnectionWindows w = ConnectionWindows.fit(window, streams, budget);
          String where = "budget " + budget + " streams " + streams + " window " + window + ": " + w;
          assertTrue(w.memoryBound() <= budget, where);
          assertTrue(w.streamWindow() <= window, where);
          assertTrue(w.maxStreams() >= 1 && w.maxStreams() <= streams, where);
          assertEquals(2L * w.streamWindow() * (w.maxStreams() + 1), w.connectionWindow(), where);
          if (w.maxStreams() < streams) {
            assertTrue(w.streamWindow() <= ConnectionWindows.FLOOR, where);
          }
        }
      }
    }
  }

  @Test
  @Timeout(10)
  void defaultBudgetKeepsTheWindowAndTheStreamLimit() {
    ConnectionWindows w = ConnectionWindows.fit(MIB, 100, ConnectionWindows.budgetFor(MIB, 100));
    assertEquals(new ConnectionWindows(MIB, 2L * MIB * 101, 100), w);
  }

  @Test
  @Timeout(10)
  void smallBudgetLowersTheWindowThenTheStreamLimit() {
    assertEquals(64 * KIB, ConnectionWindows.fit(MIB, 100, 2L * 64 * KIB * 100).streamWindow());
    ConnectionWindows few = ConnectionWindows.fit(MIB, 100, 2L * 16 * KIB * 10);
    assertEquals(16 * KIB, few.streamWindow());
    assertEquals(10, few.maxStreams());
    assertThrows(IllegalArgumentException.class, () -> ConnectionWindows.fit(MIB, 1, 16 * KIB));
  }

  @Test
  @Timeout(10)
  void firstConnectionGetsTheInitialWindowLaterOnesTwiceTheBdp() {
    ClientWindowSizing sizing = new ClientWindowSizing(0, MIB, 64 * KIB, 16 * MIB, 10, 1L << 40,
        new PathMemory(32 * KIB));
    assertEquals(MIB, sizing.windowsFor("a").streamWindow());
    // 85 ms x 1.5 MB/s = 127.5 kB; twice that.
    sizing.connectionEnded("a", stats(85, 1_500_000));
    assertEquals(255_000, sizing.windowsFor("a").streamWindow());
    assertEquals(MIB, sizing.windowsFor("b").streamWindow(), "per authority");
    sizing.connectionEnded("a", stats(85, 100_000));
    assertEquals(255_000, sizing.windowsFor("a").streamWindow(),
        "8.5 kB per RTT is below the app-limited threshold (32 KiB): the rate is kept");
    sizing.connectionEnded("a", stats(200, 1e9));
    assertEquals(16 * MIB, sizing.windowsFor("a").streamWindow());
    sizing.connectionEnded("a", stats(50, 800_000));
    assertEquals(80_000, sizing.windowsFor("a").streamWindow(), "a smaller path: 2 x 40 kB");
  }

  @Test
  @Timeout(10)
  void budgetCapsAdaptiveWindowsAndFixedWindowsIgnoreTheMemory() {
    ClientWindowSizing capped = new ClientWindowSizing(0, MIB, 64 * KIB, 16 * MIB, 100,
        ConnectionWindows.budgetFor(MIB, 100), new PathMemory(32 * KIB));
    capped.connectionEnded("a", stats(100, 100e6));
    assertEquals(MIB, capped.windowsFor("a").streamWindow());
    ClientWindowSizing fixed = new ClientWindowSizing(96 * KIB, 0, 0, 0, 100,
        ConnectionWindows.budgetFor(96 * KIB, 100), new PathMemory(32 * KIB));
    fixed.connectionEnded("a", stats(100, 100e6));
    assertEquals(96 * KIB, fixed.windowsFor("a").streamWindow());
    assertNull(fixed.memory().get("a"));
  }
}
