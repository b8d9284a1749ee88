package dev.grpcquic.transport;

/**
 * The receive windows of one connection and the request streams it allows at once, fitted to a
 * memory budget.
 *
 * <p>A request stream whose application stops reading holds up to two stream windows W on the
 * receiving side: one read into the transport (its read credit) and one unread inside the QUIC
 * engine (the engine extends the peer's window as the transport reads). N such streams hold
 * 2 · W · N. The engine fixes a stream's window when the stream is created, so the budget cannot
 * be enforced by counting bytes as they arrive; it is enforced by the sizes:
 * <pre>
 *   W = min(wanted, budget / (2 · N))           when that is at least {@link #FLOOR}
 *   otherwise W = min(wanted, FLOOR) and N = max(1, budget / (2 · W))
 *   C = 2 · W · (N + 1)                          connection window (MAX_DATA)
 * </pre>
 * so that 2 · W · N never exceeds the budget. C is large enough that N stalled streams never use
 * up the connection window the other streams need (see {@link #connectionWindow}).
 *
 * @param streamWindow W, each stream's receive window
 * @param connectionWindow C, the connection's receive window
 * @param maxStreams N, request streams open at once
 */
public record ConnectionWindows(int streamWindow, long connectionWindow, int maxStreams) {
  /** Below this a stream window costs more in round trips than it saves in memory. */
  public static final int FLOOR = 16 * 1024;

  /** The budget that lets every one of {@code maxStreams} streams have {@code window}. */
  public static long budgetFor(long window, int maxStreams) {
    return 2 * window * (long) maxStreams;
  }

  /** Windows as close to {@code wantedWindow} as {@code budget} allows for {@code maxStreams}. */
  public static ConnectionWindows fit(long wantedWindow, int maxStreams, long budget) {
    if (wantedWindow <= 0 || maxStreams <= 0 || budget < 2L * FLOOR) {
      throw new IllegalArgumentException("window " + wantedWindow + ", streams " + maxStreams
          + ", budget " + budget + " (at least " + 2 * FLOOR + ")");
    }
    long fitted = budget / (2L * maxStreams);
    long window;
    int streams = maxStreams;
    if (fitted >= FLOOR) {
      window = Math.min(wantedWindow, fitted);
    } else {
      window = Math.min(wantedWindow, FLOOR);
      streams = (int) Math.max(1, Math.min(maxStreams, budget / (2 * window)));
    }
    window = Math.min(window, Integer.MAX_VALUE);
    return new ConnectionWindows((int) window, connectionWindow(window, streams), streams);
  }

  /**
   * The connection receive window for {@code streams} streams of {@code window} each. A stream
   * whose reader stalls keeps up to a window unread inside the engine, and every such byte counts
   * against the connection window; the engine also lags up to a tenth of the connection window
   * behind in extending it (kwik sends MAX_DATA in steps of 10 %). Twice a window per stream
   * covers both, so stalled streams can never hold up the others.
   */
  static long connectionWindow(long window, int streams) {
    return 2 * window * (streams + 1L);
  }

  /** What N stalled streams can make the receiving side hold: 2 · W · N. */
  public long memoryBound() {
    return budgetFor(streamWindow, maxStreams);
  }
}
