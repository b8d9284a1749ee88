package dev.grpcquic.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs of one bulk transfer: MiB/s of each completed run, and the failure that stopped them, if any. */
final class BulkResult {
  final long bytesPerRun;
  final List<Double> mibPerSecond = new ArrayList<>();
  final List<Double> seconds = new ArrayList<>();
  String failure;

  BulkResult(long bytesPerRun) {
    this.bytesPerRun = bytesPerRun;
  }

  void add(long nanos) {
    double s = nanos / 1e9;
    seconds.add(s);
    mibPerSecond.add(bytesPerRun / (double) Plan.MIB / s);
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
    m.put("mibPerSecondMedian", median());
    m.put("failure", failure);
    return m;
  }
}
