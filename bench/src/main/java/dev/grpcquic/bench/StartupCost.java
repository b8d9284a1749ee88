package dev.grpcquic.bench;

import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicServerBuilder;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.ClientCalls;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * What a new process pays before its first call: server build + start from PEM files, channel build
 * with {@code trustCertificates(ca.pem)}, the first unary call, and the shutdown of both. Each run
 * is a fresh JVM (class loading and JIT warm-up are the cost), so the parent generates the
 * certificates once and starts {@code --runs} pairs of children (one starts a server, builds a
 * channel, calls and shuts down; the other only builds a channel, as a client process does first); it prints each run and the medians, the
 * load average before and after, and the threads a child found alive after both awaitTermination()s.
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.grpcquic.bench.StartupCost [--runs 7]</pre>
 */
public final class StartupCost {
  private StartupCost() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(Path.of(args[1]));
      return;
    }
    if (args.length > 0 && args[0].equals("--channel-child")) {
      long t0 = System.nanoTime();
      ManagedChannel channel = QuicChannelBuilder.forAddress("127.0.0.1", 443)
          .trustCertificates(Path.of(args[1]).resolve("ca.pem").toFile()).build();
      System.out.println("ms " + ms(System.nanoTime() - t0));
      channel.shutdownNow();
      return;
    }
    int runs = 7;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--runs")) {
        runs = Integer.parseInt(args[++i]);
      }
    }
    try (TlsFiles tls = TlsFiles.create()) {
      System.out.println("load average before: " + loadAverage());
      List<long[]> results = new ArrayList<>();
      String threads = "";
      for (int run = 0; run < runs; run++) {
        String out = runChild("--child", tls.dir);
        long[] ms = result(out);
        threads = out.lines().filter(l -> l.startsWith("threads ")).findFirst().orElse("");
        long[] all = {ms[0], ms[1], ms[2], ms[3], result(runChild("--channel-child", tls.dir))[0]};
        results.add(all);
        System.out.printf("run %d: server start %d ms, channel build %d ms (cold JVM: %d ms),"
            + " first call %d ms, shutdown %d ms%n", run + 1, all[0], all[1], all[4], all[2],
            all[3]);
      }
      System.out.printf("median: server start %d ms, channel build %d ms (cold JVM: %d ms),"
          + " first call %d ms, shutdown %d ms (%d runs)%n", median(results, 0),
          median(results, 1), median(results, 4), median(results, 2), median(results, 3), runs);
      System.out.println("after shutdown (last run): " + threads);
      System.out.println("load average after: " + loadAverage());
    }
  }

  private static String runChild(String mode, Path dir) throws Exception {
    Process child = new ProcessBuilder(javaBinary(), "-cp", System.getProperty("java.class.path"),
        StartupCost.class.getName(), mode, dir.toString()).redirectErrorStream(true).start();
    String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (child.waitFor() != 0) {
      throw new IOException("child failed:\n" + out);
    }
    return out;
  }

  private static long[] result(String out) throws IOException {
    String line = out.lines().filter(l -> l.startsWith("ms ")).findFirst().orElseThrow(
        () -> new IOException("no result from child:\n" + out));
    return Arrays.stream(line.substring(3).trim().split(" ")).mapToLong(Long::parseLong).toArray();
  }

  private static void child(Path dir) throws Exception {
    File ca = dir.resolve("ca.pem").toFile();
    long t0 = System.nanoTime();
    Server server = QuicServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .useTransportSecurity(dir.resolve("server.pem").toFile(), dir.resolve("server.key").toFile())
        .addService(BenchService.definition())
        .build().start();
    long t1 = System.nanoTime();
    int port = ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
    ManagedChannel channel = QuicChannelBuilder.forAddress("127.0.0.1", port)
        .trustCertificates(ca).build();
    long t2 = System.nanoTime();
    ClientCalls.blockingUnaryCall(channel, BenchService.UNARY, CallOptions.DEFAULT, new byte[1024]);
    long t3 = System.nanoTime();
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    channel.shutdown();
    server.shutdown();
    boolean done = channel.awaitTermination(10, TimeUnit.SECONDS)
        && server.awaitTermination(10, TimeUnit.SECONDS);
    long t4 = System.nanoTime();
    if (!done) {
      throw new IllegalStateException("did not terminate");
    }
    String alive = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && before.contains(t))
        .map(t -> t.getName() + (t.isDaemon() ? "" : "(non-daemon)"))
        .sorted().collect(Collectors.joining(", "));
    System.out.println("ms " + ms(t1 - t0) + " " + ms(t2 - t1) + " " + ms(t3 - t2) + " "
        + ms(t4 - t3));
    System.out.println("threads " + alive);
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static long median(List<long[]> results, int column) {
    long[] values = results.stream().mapToLong(r -> r[column]).sorted().toArray();
    return values[values.length / 2];
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return String.valueOf(ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }
}
