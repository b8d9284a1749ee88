package dev.grpcquic.bench;

import dev.grpcquic.QuicAttributes;
import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicEngine;
import dev.grpcquic.QuicEngines;
import dev.grpcquic.QuicServerBuilder;
import dev.grpcquic.QuicSessionTicketStore;
import dev.grpcquic.stats.QuicEarlyDataStats;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Connection set-up plus the first unary call (1 KiB each way) on a fresh channel, over an emulated
 * path: QUIC cold, QUIC resumed without early data, QUIC 0-RTT, Netty TCP + TLS 1.3, Netty h2c.
 * QUIC goes through {@link DelayUdpRelay}, TCP through {@link DelayTcpProxy}, both with the same
 * one-way delay (42.5 ms: 85 ms RTT by default). Medians of N runs after warm-up runs, in ms and in
 * RTT units. {@code --one-way-ms 0} measures on plain loopback (no relay). {@code --path 4g}
 * measures over the TUN {@link LinkEmulator} instead (a profile of {@link Profile}; servers in
 * their own JVM in the emulator's namespace, as {@link BenchRunner} runs them; needs root).
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.grpcquic.bench.FirstCallBench [--runs 20]
 *     [--warmup 5] [--one-way-ms 42.5 | --path 4g] [--engine kwik|quiche]</pre>
 */
public final class FirstCallBench {
  private FirstCallBench() {}

  /** The bench's unary method, marked idempotent: eligible for 0-RTT. */
  static final MethodDescriptor<byte[], byte[]> IDEMPOTENT_UNARY =
      BenchService.UNARY.toBuilder().setIdempotent(true).build();

  enum Scenario {
    QUIC_COLD("QUIC, full handshake"),
    QUIC_RESUMED("QUIC, resumed, no early data"),
    QUIC_0RTT("QUIC, resumed, call as 0-RTT data"),
    NETTY_TLS("Netty TCP + TLS 1.3 (full handshake)"),
    NETTY_H2C("Netty h2c (TCP, plaintext)");

    final String label;

    Scenario(String label) {
      this.label = label;
    }

    boolean quic() {
      return name().startsWith("QUIC");
    }
  }

  /** Request payload size; the response is always 1 KiB. */
  static int requestBytes = BenchService.UNARY_SIZE;
  /** The QUIC engine of client and server. */
  static QuicEngine engine = QuicEngines.kwik();
  /** With {@code --path}: the emulator, its server JVM's ports and the TLS files it serves. */
  static LinkEmulator link;
  static Map<String, Integer> emulatedPorts;

  public static void main(String[] args) throws Exception {
    int runs = 20;
    int warmup = 5;
    double oneWayMs = 42.5;
    Profile path = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--one-way-ms" -> oneWayMs = Double.parseDouble(args[++i]);
        case "--request-bytes" -> requestBytes = Integer.parseInt(args[++i]);
        case "--engine" -> engine = QuicEngines.named(args[++i]);
        case "--path" -> path = Profile.named(args[++i]);
        default -> throw new IllegalArgumentException("options: [--runs N] [--warmup N] "
            + "[--one-way-ms MS | --path PROFILE] [--request-bytes N] [--engine kwik|quiche]");
      }
    }
    if (path != null) {
      String reason = LinkEmulator.unavailableReason();
      if (reason != null) {
        throw new IllegalStateException("--path needs the link emulator: " + reason);
      }
      oneWayMs = path.rttMs() / 2;
    }
    long oneWayNanos = (long) (oneWayMs * 1e6);
    double rttMs = 2 * oneWayMs;
    StringBuilder md = new StringBuilder();
    md.append(String.format("Connection set-up + first unary call (1 KiB each way), fresh channel"
        + " each run; QUIC engine %s; %s; median of %d runs after %d warm-up runs.%n%n", engine,
        path != null ? "TUN link emulator, path " + path.name() + " (" + path.describe() + ")"
            : oneWayMs > 0 ? String.format("user-space relays adding %.1f ms each way (RTT %.0f "
                + "ms): UDP relay for QUIC, TCP proxy for Netty", oneWayMs, rttMs)
            : "loopback, no relay",
        runs, warmup));
    md.append("| scenario | median (ms) | p10 (ms) | p90 (ms) |")
        .append(rttMs > 0 ? " median (RTT) |" : "").append(" 0-RTT outcome |\n");
    md.append("|---|---|---|---|").append(rttMs > 0 ? "---|" : "").append("---|\n");
    try (TlsFiles tls = TlsFiles.create();
        LinkEmulator emulator = path == null ? null : LinkEmulator.start(path)) {
      if (emulator != null) {
        LinkCheck check = emulator.check();
        md.append("Self-check: ").append(Report.checkLine(check)).append("\n\n");
        link = emulator;
        emulatedPorts = BenchRunner.startServers(emulator, tls);
      }
      for (Scenario scenario : Scenario.values()) {
        Result r = run(scenario, tls, runs, warmup, oneWayNanos);
        double[] sorted = r.millis.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = percentile(sorted, 50);
        md.append(String.format("| %s | %.1f | %.1f | %.1f |", scenario.label, median,
            percentile(sorted, 10), percentile(sorted, 90)));
        if (rttMs > 0) {
          md.append(String.format(" %.2f |", median / rttMs));
        }
        md.append(" ").append(r.outcome).append(" |\n");
        Progress.log("%s: median %.1f ms %s", scenario.label, median, r.outcome);
      }
    }
    String stamp = ZonedDateTime.now(ZoneOffset.UTC)
        .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path out = Files.isDirectory(Paths.get("bench")) ? Paths.get("bench", "results")
        : Paths.get("results");
    Files.createDirectories(out);
    Path file = out.resolve(stamp + "-first-call.md");
    Files.writeString(file, md.toString(), StandardCharsets.UTF_8);
    System.out.println(md);
    Progress.log("wrote %s", file);
    System.exit(0);
  }

  private record Result(List<Double> millis, String outcome) {}

  private static Result run(Scenario scenario, TlsFiles tls, int runs, int warmup,
      long oneWayNanos) throws Exception {
    if (link != null) {
      String key = switch (scenario) {
        case NETTY_TLS, NETTY_H2C -> scenario.name();
        default -> engine.name().equals("quiche") ? Transport.QUIC_QUICHE.name()
            : Transport.QUIC.name();
      };
      return measure(scenario, tls, link.serverAddress().getHostAddress(),
          emulatedPorts.get(key), runs, warmup);
    }
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    Server server = switch (scenario) {
      case NETTY_TLS -> NettyServerBuilder.forAddress(any, TlsServerCredentials.create(
              tls.serverChainPem.toFile(), tls.serverKeyPem.toFile()))
          .addService(BenchService.definition()).build().start();
      case NETTY_H2C -> NettyServerBuilder.forAddress(any, InsecureServerCredentials.create())
          .addService(BenchService.definition()).build().start();
      default -> QuicServerBuilder.forAddress(any)
          .engine(engine)
          .useTransportSecurity(tls.serverChainPem.toFile(), tls.serverKeyPem.toFile())
          .addService(BenchService.definition()).build().start();
    };
    InetSocketAddress serverAddress = new InetSocketAddress("127.0.0.1",
        ((InetSocketAddress) server.getListenSockets().get(0)).getPort());
    AutoCloseable relay = null;
    int port = serverAddress.getPort();
    if (oneWayNanos > 0) {
      if (scenario.quic()) {
        DelayUdpRelay udp = new DelayUdpRelay(serverAddress, oneWayNanos);
        relay = udp;
        port = udp.port();
      } else {
        DelayTcpProxy tcp = new DelayTcpProxy(serverAddress, oneWayNanos);
        relay = tcp;
        port = tcp.port();
      }
    }
    try {
      return measure(scenario, tls, "127.0.0.1", port, runs, warmup);
    } finally {
      if (relay != null) {
        relay.close();
      }
      server.shutdownNow();
      server.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** Warm-up runs, then {@code runs} measured first calls to {@code host:port}. */
  private static Result measure(Scenario scenario, TlsFiles tls, String host, int port, int runs,
      int warmup) throws Exception {
    CountingStore store = new CountingStore();
    List<Double> millis = new ArrayList<>();
    int accepted = 0;
    int attempted = 0;
    if (scenario == Scenario.QUIC_RESUMED || scenario == Scenario.QUIC_0RTT) {
      oneCall(scenario, tls, host, port, store, null); // earns the first ticket
    }
    for (int i = 0; i < warmup + runs; i++) {
      AtomicReference<QuicEarlyDataStats> early = new AtomicReference<>();
      double ms = oneCall(scenario, tls, host, port, store, early);
      if (i >= warmup) {
        millis.add(ms);
        QuicEarlyDataStats stats = early.get();
        if (stats != null && stats.outcome() != QuicEarlyDataStats.Outcome.NOT_ATTEMPTED) {
          attempted++;
          if (stats.outcome() == QuicEarlyDataStats.Outcome.ACCEPTED) {
            accepted++;
          }
        }
      }
    }
    String outcome = !scenario.quic() ? "n/a"
        : attempted == 0 ? "none sent" : accepted + "/" + attempted + " accepted";
    return new Result(millis, outcome);
  }

  /** One fresh channel, one call; returns the call's time in ms (channel creation excluded). */
  private static double oneCall(Scenario scenario, TlsFiles tls, String host, int port,
      CountingStore store, AtomicReference<QuicEarlyDataStats> early) throws Exception {
    ManagedChannel channel = switch (scenario) {
      case NETTY_TLS -> NettyChannelBuilder.forAddress(host, port,
              TlsChannelCredentials.newBuilder().trustManager(tls.caPem.toFile()).build())
          .overrideAuthority("localhost").build();
      case NETTY_H2C -> NettyChannelBuilder.forAddress(host, port,
          InsecureChannelCredentials.create()).build();
      default -> QuicChannelBuilder.forAddress(host, port)
          .engine(engine)
          .overrideAuthority("localhost")
          .trustCertificates(tls.caPem.toFile())
          .sessionTicketStore(scenario == Scenario.QUIC_COLD ? null : store)
          .zeroRtt(scenario == Scenario.QUIC_0RTT)
          .build();
    };
    try {
      int ticketsBefore = store.puts();
      AtomicReference<Supplier<QuicEarlyDataStats>> stats = new AtomicReference<>();
      Channel observed = ClientInterceptors.intercept(channel, new ClientCloseHook(
          call -> stats.set(call.getAttributes().get(QuicAttributes.EARLY_DATA))));
      long start = System.nanoTime();
      ClientCalls.blockingUnaryCall(observed, IDEMPOTENT_UNARY, CallOptions.DEFAULT,
          new byte[requestBytes]);
      double ms = (System.nanoTime() - start) / 1e6;
      if (early != null && stats.get() != null) {
        early.set(stats.get().get());
      }
      if (scenario == Scenario.QUIC_RESUMED || scenario == Scenario.QUIC_0RTT) {
        store.awaitPuts(ticketsBefore + 1); // the next run resumes with this connection's ticket
      }
      return ms;
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  private static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static final class CountingStore implements QuicSessionTicketStore {
    private final QuicSessionTicketStore delegate = QuicSessionTicketStore.inMemory(4);
    private final Semaphore arrived = new Semaphore(0);
    private volatile int puts;

    @Override
    public synchronized void put(String authority, byte[] ticket) {
      delegate.put(authority, ticket);
      puts++;
      arrived.release();
    }

    @Override
    public byte[] take(String authority) {
      return delegate.take(authority);
    }

    int puts() {
      return puts;
    }

    void awaitPuts(int count) throws InterruptedException {
      while (puts < count) {
        if (!arrived.tryAcquire(20, TimeUnit.SECONDS)) {
          throw new IllegalStateException("no session ticket arrived");
        }
      }
    }
  }
}
