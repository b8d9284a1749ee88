package dev.grpcquic.transport;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per authority, what the last connection to it measured: its smoothed RTT and its peak delivery
 * rate. The next connection sizes its stream window from their product, the bandwidth-delay
 * product. One memory per channel: channels share nothing, so one channel's paths do not size
 * another's windows.
 *
 * <p>A connection that never delivered even {@code appLimitedBelow} bytes within one RTT was
 * limited by its application, not by the path or its window: its rate says nothing about the
 * path, so it updates the RTT and leaves the remembered rate as it was.
 */
public final class PathMemory {
  /** What one connection measured. */
  public record Path(int smoothedRttMillis, double deliveryRate) {
    /** Rate x RTT, in bytes. */
    public long bdpBytes() {
      return (long) (deliveryRate * smoothedRttMillis / 1000.0);
    }
  }

  private final Map<String, Path> paths = new ConcurrentHashMap<>();
  private final long appLimitedBelow;

  /** @param appLimitedBelow bytes per RTT under which a connection's rate is not remembered */
  public PathMemory(long appLimitedBelow) {
    this.appLimitedBelow = appLimitedBelow;
  }

  /** The last measurement for {@code authority}, or null before any connection to it ended. */
  public Path get(String authority) {
    return paths.get(authority);
  }

  /** A connection to {@code authority} ended with these measurements. */
  public void record(String authority, int smoothedRttMillis, double peakDeliveryRate) {
    if (smoothedRttMillis <= 0 && peakDeliveryRate <= 0) {
      return;
    }
    Path measured = new Path(Math.max(1, smoothedRttMillis), peakDeliveryRate);
    paths.compute(authority, (key, old) -> {
      if (measured.bdpBytes() >= appLimitedBelow || old == null) {
        return measured;
      }
      return new Path(measured.smoothedRttMillis(), old.deliveryRate());
    });
  }
}
