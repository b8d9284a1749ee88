package dev.grpcquic.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Time this process's threads spent runnable but not running (waiting for a core), from Linux's
 * per-thread {@code /proc/self/task/N/schedstat} (its second field). On 2 cores a call that makes
 * a third thread runnable waits for a core; this is how much. Threads are grouped by their
 * kernel name (a Java thread name cut to 15 characters) with digits dropped. Empty where the
 * kernel does not keep the figure.
 */
final class RunQueueWait {
  private static final Path TASKS = Path.of("/proc/self/task");

  private RunQueueWait() {}

  /**
   * Nanoseconds waited by thread group, since each thread started; {@link ThreadCpu#since} gives
   * what each group waited between two snapshots.
   */
  static Map<String, Long> byGroup() {
    Map<String, Long> waited = new LinkedHashMap<>();
    try (Stream<Path> tasks = Files.list(TASKS)) {
      tasks.forEach(task -> {
        try {
          String[] stat = Files.readString(task.resolve("schedstat")).trim().split(" ");
          String name = Files.readString(task.resolve("comm")).trim().replaceAll("[0-9]+", "#");
          waited.merge(name, Long.parseLong(stat[1]), Long::sum);
        } catch (IOException | RuntimeException ended) {
          // the thread ended between the listing and the read: its wait is gone with it
        }
      });
    } catch (IOException notLinux) {
      return Map.of();
    }
    return waited;
  }
}
