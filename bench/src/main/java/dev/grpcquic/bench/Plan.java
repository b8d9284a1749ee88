package dev.grpcquic.bench;

import java.time.Duration;

/**
 * How much each measurement does. Every loop is bounded twice, by a count and by time, so that a
 * slow transport ends the run with fewer samples instead of running away.
 */
record Plan(
    String mode,
    int latencyWarmupCalls, Duration latencyWarmupCap,
    int latencyCalls, Duration latencyCap,
    int throughputThreads, Duration throughputWarmup, Duration throughputMeasure,
    long bulkWarmupBytes, long bulkBytes, int bulkMessageSize, int bulkRuns, Duration bulkCap,
    boolean jvmWarmupPass, boolean bulkPartial) {

  static final int MIB = 1024 * 1024;
  /**
   * Message size of bulk transfers on slow paths: a transfer cut at its cap counts whole
   * messages, and a lossy path may move less than 1 MiB in the time.
   */
  static final int SLOW_MESSAGE = 64 * 1024;

  /** CI smoke run: well under two minutes for everything. */
  static Plan quick() {
    return new Plan("quick",
        1_000, Duration.ofSeconds(3),
        3_000, Duration.ofSeconds(5),
        10, Duration.ofSeconds(1), Duration.ofSeconds(2),
        4L * MIB, 16L * MIB, MIB, 1, Duration.ofSeconds(30), false, false);
  }

  /**
   * A pass over every transport before the measured ones, results discarded: code shared by all
   * transports (grpc-core, JDK TLS and AES-GCM) is then compiled before the first measurement.
   */
  static Plan jvmWarmup() {
    return new Plan("jvm-warmup",
        3_000, Duration.ofSeconds(5),
        1_000, Duration.ofSeconds(3),
        10, Duration.ofSeconds(1), Duration.ofSeconds(1),
        16L * MIB, 16L * MIB, MIB, 1, Duration.ofSeconds(30), false, false);
  }

  /** The reported run: under ten minutes on a 2-core machine. */
  static Plan full() {
    return new Plan("full",
        5_000, Duration.ofSeconds(15),
        20_000, Duration.ofSeconds(40),
        10, Duration.ofSeconds(3), Duration.ofSeconds(10),
        16L * MIB, 100L * MIB, MIB, 5, Duration.ofSeconds(90), true, false);
  }

  /**
   * The plan for an emulated path. On a slow path (4G: 85 ms, 12 Mbit/s) a round trip takes
   * 85 ms and a lossy TCP connection may move well under 1 Mbit/s, so there are fewer round trips
   * and each transfer stops at a cap, counting what had arrived (goodput). On a fast path (LAN)
   * the transfers are shorter than on loopback and also capped.
   */
  static Plan forPath(Plan base, Profile path) {
    if (!path.emulated()) {
      return base;
    }
    boolean quick = base.mode().equals("quick");
    if (path.slow()) {
      return quick
          ? new Plan("quick", 5, Duration.ofSeconds(5), 50, Duration.ofSeconds(15),
              10, Duration.ofSeconds(1), Duration.ofSeconds(2),
              0, 2L * MIB, SLOW_MESSAGE, 1, Duration.ofSeconds(10), false, true)
          : new Plan("full", 10, Duration.ofSeconds(5), 200, Duration.ofSeconds(60),
              10, Duration.ofSeconds(1), Duration.ofSeconds(5),
              0, 8L * MIB, SLOW_MESSAGE, 1, Duration.ofSeconds(20), false, true);
    }
    return quick
        ? new Plan("quick", 500, Duration.ofSeconds(3), 2_000, Duration.ofSeconds(5),
            10, Duration.ofSeconds(1), Duration.ofSeconds(2),
            2L * MIB, 8L * MIB, MIB, 1, Duration.ofSeconds(15), false, true)
        : new Plan("full", 2_000, Duration.ofSeconds(10), 10_000, Duration.ofSeconds(20),
            10, Duration.ofSeconds(2), Duration.ofSeconds(5),
            8L * MIB, 64L * MIB, MIB, 3, Duration.ofSeconds(30), false, true);
  }
}
