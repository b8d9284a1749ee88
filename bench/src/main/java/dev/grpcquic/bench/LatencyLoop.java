package dev.grpcquic.bench;

/** One-at-a-time round trips: a warm-up, then the measured calls; both bounded by count and time. */
final class LatencyLoop {

  /** One round trip; throws on failure. */
  interface RoundTrip {
    void call() throws Exception;
  }

  private LatencyLoop() {}

  static LatencyStats run(String label, Plan plan, RoundTrip roundTrip) throws Exception {
    Progress.log("%s: unary latency warm-up (up to %d calls / %ds)", label,
        plan.latencyWarmupCalls(), plan.latencyWarmupCap().toSeconds());
    long deadline = System.nanoTime() + plan.latencyWarmupCap().toNanos();
    int warm = 0;
    while (warm < plan.latencyWarmupCalls() && System.nanoTime() < deadline) {
      roundTrip.call();
      warm++;
    }
    Progress.log("%s: %d warm-up calls; measuring (up to %d calls / %ds)", label, warm,
        plan.latencyCalls(), plan.latencyCap().toSeconds());
    long[] samples = new long[plan.latencyCalls()];
    int n = 0;
    long start = System.nanoTime();
    deadline = start + plan.latencyCap().toNanos();
    long nextReport = start + 5_000_000_000L;
    while (n < samples.length) {
      long t0 = System.nanoTime();
      if (t0 >= deadline) {
        break;
      }
      roundTrip.call();
      long t1 = System.nanoTime();
      samples[n++] = t1 - t0;
      if (t1 >= nextReport) {
        Progress.log("%s: %d calls measured", label, n);
        nextReport = t1 + 5_000_000_000L;
      }
    }
    LatencyStats stats = LatencyStats.of(samples, n);
    Progress.log("%s: unary latency %s", label, stats);
    return stats;
  }
}
