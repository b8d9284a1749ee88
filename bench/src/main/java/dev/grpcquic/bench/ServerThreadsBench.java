package dev.grpcquic.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.grpcquic.QuicServerBuilder;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * A quiche server's calls/s against its event-loop threads ({@code eventLoopThreads}): unset
 * (one socket on the engine's shared loops, which the clients in this JVM use too), 1 and 2
 * sockets with threads of their own. Unary 1 KiB calls, closed loop, a fixed number in flight
 * spread round-robin over several client connections (each its own UDP socket, so the kernel
 * spreads them over the server's sockets). Per point: calls/s, p50/p99, the CPU time of each
 * server event-loop thread and of the whole process per second of wall time.
 *
 * <pre>java -cp benchmarks.jar dev.grpcquic.bench.ServerThreadsBench [--threads 0,1,2]
 *     [--in-flight 64,256] [--connections 8] [--seconds 5] [--warmup-seconds 2] [--rounds 2]</pre>
 */
public final class ServerThreadsBench {
  private static final String SERVER_LOOP = "grpc-quic-quiche-server";

  private ServerThreadsBench() {}

  public static void main(String[] args) throws Exception {
    int[] threadCounts = {0, 1, 2};
    int[] levels = {64, 256};
    int connections = 8;
    Duration measure = Duration.ofSeconds(5);
    Duration warmup = Duration.ofSeconds(2);
    int rounds = 2;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--threads" -> threadCounts = ints(args[++i]);
        case "--in-flight" -> levels = ints(args[++i]);
        case "--connections" -> connections = Integer.parseInt(args[++i]);
        case "--seconds" -> measure = Duration.ofSeconds(Long.parseLong(args[++i]));
        case "--warmup-seconds" -> warmup = Duration.ofSeconds(Long.parseLong(args[++i]));
        case "--rounds" -> rounds = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "Server threads sweep, %d cores, %d client connections,"
        + " %d s measured after %d s warm-up per point. Load average at start: %s.%n%n",
        Runtime.getRuntime().availableProcessors(), connections, measure.toSeconds(),
        warmup.toSeconds(), BenchRunner.loadAverage()));
    md.append("Every round measures every thread count in turn (the first round also warms the JIT"
        + " up for all).\n\n");
    md.append("| round | eventLoopThreads | in flight | calls/s | p50 / p99 (µs) | server loop threads,"
        + " CPU ms per s each | process CPU ms per s | load average after |\n");
    md.append("|---:|---|---:|---:|---:|---|---:|---|\n");
    try (TlsFiles tls = TlsFiles.create()) {
      for (int round = 1; round <= rounds; round++) {
        for (int n : threadCounts) {
          measure(round, n, tls, connections, levels, warmup, measure, md);
        }
      }
    }
    System.out.println(md);
    System.exit(0);
  }

  /** One thread count: a server, its client connections, and each level of calls in flight. */
  private static void measure(int round, int n, TlsFiles tls, int connections, int[] levels,
      Duration warmup, Duration measure, StringBuilder md) throws Exception {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    OperatingSystemMXBean os =
        (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    UnaryOperator<QuicServerBuilder> configure = n == 0 ? b -> b : b -> b.eventLoopThreads(n);
    Server server = GrpcEndpoint.startServer(Transport.QUIC_QUICHE, tls, 2048, configure);
    List<ManagedChannel> channels = new ArrayList<>();
    try {
      for (int c = 0; c < connections; c++) {
        ManagedChannel channel = GrpcEndpoint.newChannel(Transport.QUIC_QUICHE, tls,
            GrpcEndpoint.port(server), 2048, null);
        GrpcBench.unary(channel);
        channels.add(channel);
      }
      Channel spread = new RoundRobin(channels);
      String label = n == 0 ? "shared loops" : n + " own";
      ConcurrencySweep.run(label + " warm-up", spread, new int[] {16}, warmup, warmup);
      for (int level : levels) {
        List<Thread> loops = Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith(SERVER_LOOP)).toList();
        long[] loopCpu = loops.stream().mapToLong(t -> threads.getThreadCpuTime(t.getId()))
            .toArray();
        long processCpu = os.getProcessCpuTime();
        long start = System.nanoTime();
        ConcurrencySweep.Point p = ConcurrencySweep.run(label, spread, new int[] {level},
            warmup, measure).get(0);
        double wallSeconds = (System.nanoTime() - start) / 1e9;
        List<String> perLoop = new ArrayList<>();
        for (int i = 0; i < loops.size(); i++) {
          perLoop.add(String.format(Locale.ROOT, "%.0f",
              (threads.getThreadCpuTime(loops.get(i).getId()) - loopCpu[i]) / 1e6
                  / wallSeconds));
        }
        md.append(String.format(Locale.ROOT,
            "| %d | %s | %d | %.0f | %.0f / %.0f | %s | %.0f | %s |%n", round,
            n == 0 ? "unset (shared)" : Integer.toString(n), level, p.callsPerSecond(),
            p.latency() == null ? 0 : p.latency().p50Us(),
            p.latency() == null ? 0 : p.latency().p99Us(),
            loops.isEmpty() ? "— (shared with the clients)" : String.join(", ", perLoop),
            (os.getProcessCpuTime() - processCpu) / 1e6 / wallSeconds,
            BenchRunner.loadAverage().split(" ")[0]));
      }
    } finally {
      for (ManagedChannel channel : channels) {
        channel.shutdownNow();
      }
      for (ManagedChannel channel : channels) {
        channel.awaitTermination(10, TimeUnit.SECONDS);
      }
      server.shutdownNow().awaitTermination(30, TimeUnit.SECONDS);
    }
  }

  private static int[] ints(String list) {
    return java.util.Arrays.stream(list.split(",")).mapToInt(s -> Integer.parseInt(s.trim()))
        .toArray();
  }

  /** Each new call on the next connection in turn. */
  private static final class RoundRobin extends Channel {
    private final List<ManagedChannel> channels;
    private final AtomicInteger next = new AtomicInteger();

    RoundRobin(List<ManagedChannel> channels) {
      this.channels = channels;
    }

    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> newCall(MethodDescriptor<ReqT, RespT> method,
        CallOptions options) {
      return channels.get(Math.floorMod(next.getAndIncrement(), channels.size()))
          .newCall(method, options);
    }

    @Override
    public String authority() {
      return channels.get(0).authority();
    }
  }
}
