package dev.grpcquic.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Percentiles (nearest rank) of round-trip times, in microseconds. */
record LatencyStats(int samples, double minUs, double p50Us, double p90Us, double p99Us,
    double p999Us, double maxUs, double meanUs) {

  static LatencyStats of(long[] nanos, int count) {
    if (count == 0) {
      throw new IllegalArgumentException("no samples");
    }
    long[] sorted = Arrays.copyOf(nanos, count);
    Arrays.sort(sorted);
    double sum = 0;
    for (long v : sorted) {
      sum += v;
    }
    return new LatencyStats(count, sorted[0] / 1e3, rank(sorted, 0.50), rank(sorted, 0.90),
        rank(sorted, 0.99), rank(sorted, 0.999), sorted[count - 1] / 1e3, sum / count / 1e3);
  }

  private static double rank(long[] sorted, double p) {
    int index = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e3;
  }

  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("samples", samples);
    m.put("minUs", minUs);
    m.put("p50Us", p50Us);
    m.put("p90Us", p90Us);
    m.put("p99Us", p99Us);
    m.put("p999Us", p999Us);
    m.put("maxUs", maxUs);
    m.put("meanUs", meanUs);
    return m;
  }

  @Override
  public String toString() {
    return String.format("n=%d p50=%.0fus p99=%.0fus p99.9=%.0fus max=%.0fus mean=%.0fus",
        samples, p50Us, p99Us, p999Us, maxUs, meanUs);
  }
}
