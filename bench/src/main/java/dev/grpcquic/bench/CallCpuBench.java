package dev.grpcquic.bench;

import com.sun.management.OperatingSystemMXBean;
import io.grpc.Channel;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
    UnaryCallers callers = new UnaryCallers(channel, threads, "bench-caller-");
    Map<String, Long> cpu0;
    Map<String, Long> cpu1;
    long process0;
    long process1;
    long switches0;
    long switches1;
    long calls0;
    long calls1;
    long t0;
    long t1;
    try {
      Thread.sleep(warmupSeconds * 1000); // a fixed window of load, not synchronisation
      cpu0 = ThreadCpu.byName(byThread);
      process0 = OS.getProcessCpuTime();
      switches0 = contextSwitches();
      calls0 = callers.calls();
      t0 = System.nanoTime();
      Thread.sleep(seconds * 1000);
      calls1 = callers.calls();
      t1 = System.nanoTime();
      switches1 = contextSwitches();
      process1 = OS.getProcessCpuTime();
      cpu1 = ThreadCpu.byName(byThread);
    } finally {
      callers.close();
    }
    if (callers.failure() != null) {
      throw new IllegalStateException("a call failed", callers.failure());
    }
    long n = Math.max(1, calls1 - calls0);
    Map<String, Long> used = ThreadCpu.since(cpu0, cpu1);
    long threadsCpu = used.values().stream().mapToLong(Long::longValue).sum();
    StringBuilder groups = new StringBuilder();
    used.forEach((name, cpu) -> {
      if (cpu / 1000.0 / n >= 0.5) {
        groups.append(String.format(Locale.ROOT, "%s%s %.1f",
            groups.length() == 0 ? "" : ", ", name, cpu / 1000.0 / n));
      }
    });
    // The JVM's own threads (garbage collection, JIT compilers) are not Java threads here.
    groups.append(String.format(Locale.ROOT, ", JVM (GC, JIT) %.1f",
        (process1 - process0 - threadsCpu) / 1000.0 / n));
    return String.format(Locale.ROOT, " %.0f | %.1f | %.2f | %s |",
        n / ((t1 - t0) / 1e9), (process1 - process0) / 1000.0 / n,
        (switches1 - switches0) / (double) n, groups);
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
