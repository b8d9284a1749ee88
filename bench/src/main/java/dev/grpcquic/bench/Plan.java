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
    boolean jvmWarmupPass) {

  static final int MIB = 1024 * 1024;

  /** CI smoke run: well under two minutes for everything. */
  static Plan quick() {
    return new Plan("quick",
        1_000, Duration.ofSeconds(3),
        3_000, Duration.ofSeconds(5),
        10, Duration.ofSeconds(1), Duration.ofSeconds(2),
        4L * MIB, 16L * MIB, MIB, 1, Duration.ofSeconds(30), false);
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
        16L * MIB, 16L * MIB, MIB, 1, Duration.ofSeconds(30), false);
  }

  /** The reported run: under ten minutes on a 2-core machine. */
  static Plan full() {
    return new Plan("full",
        5_000, Duration.ofSeconds(15),
        20_000, Duration.ofSeconds(40),
        10, Duration.ofSeconds(3), Duration.ofSeconds(10),
        16L * MIB, 100L * MIB, MIB, 5, Duration.ofSeconds(90), true);
  }
}
