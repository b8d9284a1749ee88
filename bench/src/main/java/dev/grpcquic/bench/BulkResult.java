package dev.grpcquic.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs of one bulk transfer: MiB/s of each run (its bytes over its time; a run cut at the plan's
 * cap counts the bytes that had arrived), and the failure that stopped them, if any.
 */
final class BulkResult {
  final long bytesPerRun;
  final List<Double> mibPerSecond = new ArrayList<>();
  final List<Double> seconds = new ArrayList<>();
  final List<Long> bytes = new ArrayList<>();
  final List<Boolean> complete = new ArrayList<>();
  String failure;

  BulkResult(long bytesPerRun) {
    this.bytesPerRun = bytesPerRun;
  }

  void add(GrpcBench.Transferred t) {
    double s = t.nanos() / 1e9;
    seconds.add(s);
    bytes.add(t.bytes());
    complete.add(t.complete());
    mibPerSecond.add(t.bytes() / (double) Plan.MIB / s);
  }

  /** Goodput of the median run in Mbit/s (10^6 bit/s), for comparing with a link rate. */
  double medianMbit() {
    return median() * Plan.MIB * 8 / 1e6;
  }

  /** Median of the completed runs, NaN when none completed. */
  double median() {
    if (mibPerSecond.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = new ArrayList<>(mibPerSecond);
    sorted.sort(null);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("bytesPerRun", bytesPerRun);
    m.put("mibPerSecondRuns", mibPerSecond);
    m.put("secondsRuns", seconds);
    m.put("bytesRuns", bytes);
    m.put("completeRuns", complete);
    m.put("mibPerSecondMedian", median());
    m.put("failure", failure);
    return m;
  }
}
