package dev.grpcquic.bench;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Where a unary call's time goes above the raw engine: the same 1 KiB unary loop on loopback with
 * grpc-core's default executors and with {@code directExecutor()} on both ends (no hop from the
 * transport's thread to an application thread and back), per transport, rounds interleaved.
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.grpcquic.bench.ExecutorHopBench [--rounds 2]
 *     [--calls 8000] [--only NETTY_TLS,NETTY_H2C,QUIC,QUIC_QUICHE,QUIC_QUICHE_BBR]</pre>
 */
public final class ExecutorHopBench {
  private ExecutorHopBench() {}

  public static void main(String[] args) throws Exception {
    LoopOptions options = LoopOptions.parse(args, 8000);
    System.out.println("| round | transport | executors | p50 µs | p90 µs | p99 µs |");
    System.out.println("|---|---|---|---|---|---|");
    try (TlsFiles tls = TlsFiles.create()) {
      for (int round = 1; round <= options.rounds(); round++) {
        for (Transport t : options.transports()) {
          for (boolean direct : new boolean[] {false, true}) {
            long[] micros = loop(t, direct, tls, options);
            System.out.printf(Locale.ROOT, "| %d | %s | %s | %d | %d | %d |%n", round, t.label,
                direct ? "direct" : "default", micros[0], micros[1], micros[2]);
          }
        }
      }
    }
    System.out.printf(Locale.ROOT, "load average %.1f%n", java.lang.management.ManagementFactory
        .getOperatingSystemMXBean().getSystemLoadAverage());
    System.exit(0); // kwik's connector threads are not daemons
  }

  /** p50, p90 and p99 in µs of {@code calls} calls after as many warm-up calls (at most 3000). */
  private static long[] loop(Transport t, boolean direct, TlsFiles tls, LoopOptions options)
      throws Exception {
    int calls = options.calls();
    io.grpc.ServerBuilder<?> serverBuilder =
        GrpcEndpoint.serverBuilder(t, tls, new InetSocketAddress("127.0.0.1", 0));
    Server server = (direct ? serverBuilder.directExecutor() : serverBuilder).build().start();
    io.grpc.ManagedChannelBuilder<?> channelBuilder =
        GrpcEndpoint.channelBuilder(t, tls, "127.0.0.1", GrpcEndpoint.port(server));
    ManagedChannel channel = (direct ? channelBuilder.directExecutor() : channelBuilder).build();
    try {
      byte[] request = new byte[BenchService.UNARY_SIZE];
      for (int i = 0; i < Math.min(calls, 3000); i++) {
        ClientCalls.blockingUnaryCall(channel, BenchService.UNARY, CallOptions.DEFAULT, request);
      }
      long[] nanos = new long[calls];
      for (int i = 0; i < calls; i++) {
        options.pause();
        long start = System.nanoTime();
        ClientCalls.blockingUnaryCall(channel, BenchService.UNARY, CallOptions.DEFAULT, request);
        nanos[i] = System.nanoTime() - start;
      }
      Arrays.sort(nanos);
      return new long[] {nanos[calls / 2] / 1000, nanos[calls * 9 / 10] / 1000,
          nanos[calls * 99 / 100] / 1000};
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
