package dev.grpcquic.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.LinkedHashMap;
import java.util.Map;

/** CPU time of this process's live Java threads, for benchmarks that say where a phase's CPU went. */
final class ThreadCpu {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private ThreadCpu() {}

  /**
   * Nanoseconds of CPU by thread name, with digits dropped unless {@code eachThread}
   * ("grpc-quic-quiche-3" and "-4" together). Threads that ended meanwhile are missing.
   */
  static Map<String, Long> byName(boolean eachThread) {
    Map<String, Long> byName = new LinkedHashMap<>();
    for (long id : THREADS.getAllThreadIds()) {
      var info = THREADS.getThreadInfo(id);
      long cpu = THREADS.getThreadCpuTime(id);
      if (info != null && cpu >= 0) {
        String name = info.getThreadName();
        byName.merge(eachThread ? name : name.replaceAll("[0-9]+", "#"), cpu, Long::sum);
      }
    }
    return byName;
  }

  /**
   * What each name used between two snapshots of {@link #byName} (or of another per-name counter,
   * {@link RunQueueWait#byGroup}), largest first.
   */
  static Map<String, Long> since(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> used = new LinkedHashMap<>();
    after.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
        .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
        .forEach(e -> used.put(e.getKey(), e.getValue()));
    return used;
  }
}
