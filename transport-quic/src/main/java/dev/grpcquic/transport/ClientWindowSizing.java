package dev.grpcquic.transport;

import dev.grpcquic.engine.ConnectionStats;

/**
 * Chooses each new client connection's windows. A fixed window ({@code flowControlWindow} on the
 * channel builder) is used as it is. Otherwise the stream window is twice the bandwidth-delay
 * product the channel's {@link PathMemory} holds for the authority, clamped to [min, max]; the first
 * connection to an authority gets {@code initialWindow}. Twice, so that a window-limited
 * connection's successor can find out whether the path carries more (the rate a connection
 * measures is at most window / RTT). Either way the result is fitted to the memory budget
 * ({@link ConnectionWindows#fit}).
 *
 * @param fixedWindow the window to use always, or 0 for windows from the BDP
 * @param initialWindow window of the first connection to an authority (adaptive only)
 * @param minWindow lower bound of adaptive windows
 * @param maxWindow upper bound of adaptive windows
 * @param maxStreams request streams one connection opens at once
 * @param memoryBudget what stalled streams may make one connection hold on this side
 * @param memory what earlier connections measured, per authority
 */
public record ClientWindowSizing(int fixedWindow, int initialWindow, int minWindow, int maxWindow,
    int maxStreams, long memoryBudget, PathMemory memory) {

  /** Windows for a new connection to {@code authority}. */
  public ConnectionWindows windowsFor(String authority) {
    return ConnectionWindows.fit(wantedWindow(authority), maxStreams, memoryBudget);
  }

  /** The stream window before the budget: fixed, or 2 x BDP within the bounds. */
  long wantedWindow(String authority) {
    if (fixedWindow > 0) {
      return fixedWindow;
    }
    PathMemory.Path path = memory.get(authority);
    long wanted = path == null || path.deliveryRate() <= 0 ? initialWindow : 2 * path.bdpBytes();
    return Math.max(minWindow, Math.min(maxWindow, wanted));
  }

  /** A connection to {@code authority} ended: remember what it measured. */
  public void connectionEnded(String authority, ConnectionStats stats) {
    if (fixedWindow == 0 && stats != null) {
      memory.record(authority, stats.smoothedRttMillis(), stats.peakDeliveryRate());
    }
  }
}
