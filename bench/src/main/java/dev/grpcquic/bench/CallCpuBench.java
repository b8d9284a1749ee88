package dev.grpcquic.bench;

import com.sun.management.OperatingSystemMXBean;
import io.grpc.Channel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * What one unary call costs in CPU when many threads call at once: with the CPU saturated
 * (10 callers on 2 cores, client and server in this JVM), calls/s is the cores divided by the
 * CPU time of a call, so the 10-thread ratio to Netty TLS is the inverse ratio of these costs.
 * Per transport: calls/s, process CPU µs per call, context switches per call (thread hand-offs:
 * each blocking call parks its caller at least once), and CPU µs per call by thread group
 * (names with their digits dropped; what no Java thread ran is the JVM's own: GC and JIT),
 * measured after a warm-up. Rounds interleave transports.
 *
 * <pre>java -cp benchmarks.jar dev.grpcquic.bench.CallCpuBench [--rounds 3] [--threads 10]
 *     [--seconds 8] [--warmup-seconds 4] [--by-thread] [--only NETTY_TLS,QUIC_QUICHE]</pre>
 */
public final class CallCpuBench {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final OperatingSystemMXBean OS =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  /** Each thread on its own instead of groups (which event loop carries the work). */
  private static boolean byThread;

  private CallCpuBench() {}

  public static void main(String[] args) throws Exception {
    int rounds = 3;
    int threads = 10;
    long seconds = 8;
    long warmupSeconds = 4;
    List<Transport> transports = new ArrayList<>(List.of(Transport.NETTY_TLS, Transport.QUIC_QUICHE));
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        case "--threads" -> threads = Integer.parseInt(args[++i]);
        case "--seconds" -> seconds = Long.parseLong(args[++i]);
        case "--warmup-seconds" -> warmupSeconds = Long.parseLong(args[++i]);
        case "--by-thread" -> byThread = true;
        case "--only" -> {
          transports.clear();
          for (String name : args[++i].split(",")) {
            transports.add(Transport.valueOf(name.trim().toUpperCase(Locale.ROOT)));
          }
        }
        default -> throw new IllegalArgumentException("options: [--rounds N] [--threads N]"
            + " [--seconds N] [--warmup-seconds N] [--by-thread] [--only T,T,..]");
      }
    }
    System.out.printf(Locale.ROOT, "%d callers, %d cores, %d s measured after %d s warm-up;"
        + " load average at start %.1f%n%n", threads, Runtime.getRuntime().availableProcessors(),
        seconds, warmupSeconds, OS.getSystemLoadAverage());
    System.out.println("| round | transport | calls/s | CPU µs/call | context switches/call"
        + " | CPU µs/call by thread group |");
    System.out.println("|---|---|---|---|---|---|");
    try (TlsFiles tls = TlsFiles.create()) {
      for (int round = 1; round <= rounds; round++) {
        for (Transport t : transports) {
          try (GrpcEndpoint endpoint = GrpcEndpoint.start(t, tls)) {
            System.out.printf(Locale.ROOT, "| %d | %s |%s%n", round, t.label,
                measure(endpoint.channel, threads, seconds, warmupSeconds));
          }
        }
      }
    }
    System.out.printf(Locale.ROOT, "%nload average at the end %.1f%n", OS.getSystemLoadAverage());
    System.exit(0); // kwik's connector threads are not daemons
  }

  private static String measure(Channel channel, int threads, long seconds, long warmupSeconds)
      throws Exception {
    AtomicLong calls = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> callers = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      Thread t = new Thread(() -> {
        while (!stop.get()) {
          GrpcBench.unary(channel);
          calls.incrementAndGet();
        }
      }, "bench-caller-" + i);
      t.setDaemon(true);
      callers.add(t);
      t.start();
    }
    Thread.sleep(warmupSeconds * 1000); // a fixed window of load, not synchronisation
    Map<String, Long> cpu0 = cpuByGroup();
    long process0 = OS.getProcessCpuTime();
    long switches0 = contextSwitches();
    long calls0 = calls.get();
    long t0 = System.nanoTime();
    Thread.sleep(seconds * 1000);
    long calls1 = calls.get();
    long t1 = System.nanoTime();
    long switches1 = contextSwitches();
    long process1 = OS.getProcessCpuTime();
    Map<String, Long> cpu1 = cpuByGroup();
    stop.set(true);
    for (Thread t : callers) {
      t.join(30_000);
    }
    long n = Math.max(1, calls1 - calls0);
    long threadsCpu = 0;
    for (Map.Entry<String, Long> e : cpu1.entrySet()) {
      threadsCpu += e.getValue() - cpu0.getOrDefault(e.getKey(), 0L);
    }
    StringBuilder groups = new StringBuilder();
    cpu1.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - cpu0.getOrDefault(e.getKey(), 0L)))
        .filter(e -> e.getValue() / 1000.0 / n >= 0.5)
        .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
        .forEach(e -> groups.append(String.format(Locale.ROOT, "%s%s %.1f",
            groups.length() == 0 ? "" : ", ", e.getKey(), e.getValue() / 1000.0 / n)));
    // The JVM's own threads (garbage collection, JIT compilers) are not Java threads here.
    groups.append(String.format(Locale.ROOT, ", JVM (GC, JIT) %.1f",
        (process1 - process0 - threadsCpu) / 1000.0 / n));
    return String.format(Locale.ROOT, " %.0f | %.1f | %.2f | %s |",
        n / ((t1 - t0) / 1e9), (process1 - process0) / 1000.0 / n,
        (switches1 - switches0) / (double) n, groups);
  }

  /** CPU time of live threads by name with digits dropped; threads that ended are missing. */
  private static Map<String, Long> cpuByGroup() {
    Map<String, Long> byGroup = new LinkedHashMap<>();
    for (long id : THREADS.getAllThreadIds()) {
      var info = THREADS.getThreadInfo(id);
      long cpu = THREADS.getThreadCpuTime(id);
      if (info != null && cpu >= 0) {
        String name = info.getThreadName();
        byGroup.merge(byThread ? name : name.replaceAll("[0-9]+", "#"), cpu, Long::sum);
      }
    }
    return byGroup;
  }

  /** Voluntary and involuntary context switches of this process's threads (Linux; 0 elsewhere). */
  private static long contextSwitches() {
    long sum = 0;
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.contains("ctxt_switches:")) {
              sum += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
          }
        } catch (IOException | NumberFormatException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return sum;
  }
}
