package dev.grpcquic.bench;

import dev.grpcquic.QuicAttributes;
import dev.grpcquic.QuicChannelBuilder;
import dev.grpcquic.QuicServerBuilder;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
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
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.knowm.xchart.CategoryChart;

/**
 * The first call on a new channel (connection set-up plus a 1 KiB unary call, full handshakes, no
 * resumption) with a "QUIC preferred" channel ({@code tcpFallback}) against the pure transport
 * that the path allows, on loopback:
 *
 * <ul>
 *   <li>UDP works (a server with {@code alsoServeTcp}): QUIC preferred vs pure QUIC;
 *   <li>UDP refused (TCP-only server, nothing on the UDP port: ICMP port unreachable): QUIC
 *       preferred vs pure TCP + TLS (Netty);
 *   <li>UDP black-holed (a UDP socket on the port that drops everything): QUIC preferred vs pure
 *       TCP + TLS; the expected cost is the race delay.
 * </ul>
 *
 * Runs interleave the clients (one of each per round), so that load changes on a shared machine
 * hit them alike. Medians of N rounds after warm-up rounds.
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.grpcquic.bench.FallbackFirstCallBench [--runs 20]
 *     [--warmup 5] [--race-delay-ms 300] [--pause-ms 0] [--engine kwik|quiche] [--docs docs]</pre>
 *
 * <p>{@code --pause-ms}: an idle pause before each new channel, so that the next channel is not
 * made in the wake of the previous one (quiche builds a connection's codec ahead, a second after
 * the previous connection started; without a pause each connection builds its own).
 */
public final class FallbackFirstCallBench {
  private FallbackFirstCallBench() {}

  enum Path3 {
    UDP_WORKS("UDP works"),
    UDP_REFUSED("UDP refused"),
    UDP_BLACK_HOLED("UDP black-holed");

    final String label;

    Path3(String label) {
      this.label = label;
    }
  }

  enum Client {
    PURE_QUIC("pure QUIC"),
    PURE_TCP("pure TCP + TLS (Netty)"),
    QUIC_PREFERRED("QUIC preferred");

    final String label;

    Client(String label) {
      this.label = label;
    }
  }

  private record Case(Path3 path, Client client) {}

  private static long raceDelayMs = 300;

  public static void main(String[] args) throws Exception {
    int runs = 20;
    int warmup = 5;
    String docs = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--race-delay-ms" -> raceDelayMs = Long.parseLong(args[++i]);
        case "--docs" -> docs = args[++i];
        case "--engine" -> engine = dev.grpcquic.QuicEngines.named(args[++i]);
        case "--pause-ms" -> pauseMs = Long.parseLong(args[++i]);
        default -> throw new IllegalArgumentException("options: [--runs N] [--warmup N]"
            + " [--race-delay-ms MS] [--pause-ms MS] [--engine kwik|quiche] [--docs DIR]");
      }
    }
    List<Case> cases = List.of(
        new Case(Path3.UDP_WORKS, Client.PURE_QUIC),
        new Case(Path3.UDP_WORKS, Client.QUIC_PREFERRED),
        new Case(Path3.UDP_REFUSED, Client.PURE_TCP),
        new Case(Path3.UDP_REFUSED, Client.QUIC_PREFERRED),
        new Case(Path3.UDP_BLACK_HOLED, Client.PURE_TCP),
        new Case(Path3.UDP_BLACK_HOLED, Client.QUIC_PREFERRED));
    Map<Case, List<Double>> millis = new TreeMap<>((a, b) -> Integer.compare(
        cases.indexOf(a), cases.indexOf(b)));
    Map<Case, List<String>> protocols = new TreeMap<>((a, b) -> Integer.compare(
        cases.indexOf(a), cases.indexOf(b)));
    cases.forEach(c -> {
      millis.put(c, new ArrayList<>());
      protocols.put(c, new ArrayList<>());
    });
    try (TlsFiles tls = TlsFiles.create();
        Servers servers = new Servers(tls)) {
      for (int round = 0; round < warmup + runs; round++) {
        for (Case c : cases) {
          String[] protocol = {null};
          if (pauseMs > 0) {
            Thread.sleep(pauseMs);
          }
          double ms = firstCall(c, servers.port(c.path()), tls, protocol);
          if (round >= warmup) {
            millis.get(c).add(ms);
            protocols.get(c).add(protocol[0]);
          }
        }
        Progress.log("round %d of %d", round + 1, warmup + runs);
      }
    }
    double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        .getSystemLoadAverage();
    StringBuilder md = new StringBuilder();
    md.append(String.format("First call on a new channel (set-up + 1 KiB unary, full handshakes),"
        + " loopback; QUIC engine %s; race delay %d ms; median of %d interleaved rounds after %d"
        + " warm-up rounds%s; load average %.1f at the end.%n%n", engine.name(), raceDelayMs,
        runs, warmup, pauseMs > 0 ? ", " + pauseMs + " ms idle before each channel" : "", load));
    md.append("| path | client | median (ms) | p10 (ms) | p90 (ms) | protocol | vs pure |\n");
    md.append("|---|---|---|---|---|---|---|\n");
    double baseline = Double.NaN;
    for (Case c : cases) {
      double[] sorted = millis.get(c).stream().mapToDouble(Double::doubleValue).sorted().toArray();
      double median = percentile(sorted, 50);
      String versus;
      if (c.client() != Client.QUIC_PREFERRED) {
        baseline = median;
        versus = "baseline";
      } else if (c.path() == Path3.UDP_WORKS) {
        versus = String.format("%+.1f %%", 100 * (median / baseline - 1));
      } else {
        versus = String.format("%+.1f ms", median - baseline);
      }
      md.append(String.format("| %s | %s | %.1f | %.1f | %.1f | %s | %s |%n", c.path().label,
          c.client().label, median, percentile(sorted, 10), percentile(sorted, 90),
          summary(protocols.get(c)), versus));
    }
    String stamp = ZonedDateTime.now(ZoneOffset.UTC)
        .format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path out = Files.isDirectory(Paths.get("bench")) ? Paths.get("bench", "results")
        : Paths.get("results");
    Files.createDirectories(out);
    Path file = out.resolve(stamp + "-fallback-first-call.md");
    Files.writeString(file, md.toString(), StandardCharsets.UTF_8);
    Path png = out.resolve(stamp + "-fallback-first-call.png");
    chart(cases, millis, png);
    if (docs != null) {
      Files.copy(png, Paths.get(docs, "fallback-first-call.png"),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    System.out.println(md);
    Progress.log("wrote %s and %s", file, png);
    System.exit(0);
  }

  /**
   * Left the median, right the p90 of each path, the pure transport the path allows beside the
   * QUIC-preferred channel: the gap is what racing costs.
   */
  private static void chart(List<Case> cases, Map<Case, List<Double>> millis, Path png)
      throws IOException {
    List<String> paths = new ArrayList<>();
    List<Double> pureMedian = new ArrayList<>();
    List<Double> preferredMedian = new ArrayList<>();
    List<Double> pureP90 = new ArrayList<>();
    List<Double> preferredP90 = new ArrayList<>();
    for (Case c : cases) {
      double[] sorted = millis.get(c).stream().mapToDouble(Double::doubleValue).sorted().toArray();
      boolean preferred = c.client() == Client.QUIC_PREFERRED;
      if (!preferred) {
        paths.add(c.path().label + " (vs " + (c.client() == Client.PURE_QUIC ? "QUIC" : "TCP")
            + ")");
      }
      (preferred ? preferredMedian : pureMedian).add(percentile(sorted, 50));
      (preferred ? preferredP90 : pureP90).add(percentile(sorted, 90));
    }
    CategoryChart median = Report.barChart("First call on a new channel, median", "path",
        "milliseconds");
    CategoryChart p90 = Report.barChart("First call on a new channel, p90", "path",
        "milliseconds");
    median.addSeries("pure transport the path allows", paths, pureMedian);
    median.addSeries("QUIC preferred (race delay " + raceDelayMs + " ms)", paths, preferredMedian);
    p90.addSeries("pure transport the path allows", paths, pureP90);
    p90.addSeries("QUIC preferred (race delay " + raceDelayMs + " ms)", paths, preferredP90);
    Report.sideBySide(median, p90, png);
  }

  private static String summary(List<String> protocols) {
    Map<String, Integer> counts = new TreeMap<>();
    protocols.forEach(p -> counts.merge(String.valueOf(p), 1, Integer::sum));
    List<String> parts = new ArrayList<>();
    counts.forEach((p, n) -> parts.add(p + " x" + n));
    return String.join(", ", parts);
  }

  /** One fresh channel, one call; the call's time in ms (channel creation excluded). */
  private static double firstCall(Case c, int port, TlsFiles tls, String[] protocol)
      throws Exception {
    ManagedChannel channel = switch (c.client()) {
      case PURE_TCP -> NettyChannelBuilder.forAddress("127.0.0.1", port,
              TlsChannelCredentials.newBuilder().trustManager(tls.caPem.toFile()).build())
          .overrideAuthority("localhost").build();
      case PURE_QUIC -> quic(port, tls).build();
      case QUIC_PREFERRED -> quic(port, tls).tcpFallback(true)
          .tcpFallbackDelay(raceDelayMs, TimeUnit.MILLISECONDS).build();
    };
    try {
      CompletableFuture<Status> done = new CompletableFuture<>();
      long start = System.nanoTime();
      ClientCall<byte[], byte[]> call = channel.newCall(BenchService.UNARY,
          CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS));
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onHeaders(Metadata headers) {
          String p = call.getAttributes().get(QuicAttributes.TRANSPORT_PROTOCOL);
          protocol[0] = p != null ? p : "h2";
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          done.complete(status);
        }
      }, new Metadata());
      call.request(1);
      call.sendMessage(new byte[BenchService.UNARY_SIZE]);
      call.halfClose();
      Status status = done.get(60, TimeUnit.SECONDS);
      double ms = (System.nanoTime() - start) / 1e6;
      if (!status.isOk()) {
        throw new IllegalStateException(c + ": " + status);
      }
      return ms;
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(10, TimeUnit.SECONDS);
    }
  }

  /** Idle time before each new channel ({@code --pause-ms}). */
  private static long pauseMs;

  /** The QUIC engine of the channels and of the dual server ({@code --engine}). */
  private static dev.grpcquic.QuicEngine engine = dev.grpcquic.QuicEngines.kwik();

  private static QuicChannelBuilder quic(int port, TlsFiles tls) throws IOException {
    return QuicChannelBuilder.forAddress("127.0.0.1", port)
        .engine(engine)
        .overrideAuthority("localhost")
        .trustCertificates(tls.caPem.toFile())
        .sessionTicketStore(null); // full handshakes, as TCP + TLS here
  }

  private static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** The three servers: dual; TCP only; TCP only with a UDP black hole on its port number. */
  private static final class Servers implements AutoCloseable {
    private final Server dual;
    private final Server refused;
    private final Server holed;
    private final DatagramSocket hole;

    Servers(TlsFiles tls) throws IOException {
      InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
      dual = QuicServerBuilder.forAddress(any)
          .engine(engine)
          .useTransportSecurity(tls.serverChainPem.toFile(), tls.serverKeyPem.toFile())
          .addService(BenchService.definition())
          .alsoServeTcp(true)
          .build().start();
      refused = tcpOnly(tls);
      holed = tcpOnly(tls);
      hole = new DatagramSocket(new InetSocketAddress("127.0.0.1", port(holed)));
      Thread drop = new Thread(() -> {
        byte[] buffer = new byte[2048];
        while (!hole.isClosed()) {
          try {
            hole.receive(new DatagramPacket(buffer, buffer.length));
          } catch (IOException e) {
            return;
          }
        }
      }, "bench-udp-black-hole");
      drop.setDaemon(true);
      drop.start();
      try (DatagramSocket probe = new DatagramSocket(
          new InetSocketAddress("127.0.0.1", port(refused)))) {
        // nothing listens on the refused server's UDP port
      }
    }

    private static Server tcpOnly(TlsFiles tls) throws IOException {
      return NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0),
              TlsServerCredentials.create(tls.serverChainPem.toFile(), tls.serverKeyPem.toFile()))
          .addService(BenchService.definition())
          .build().start();
    }

    private static int port(Server server) {
      return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
    }

    int port(Path3 path) {
      return switch (path) {
        case UDP_WORKS -> port(dual);
        case UDP_REFUSED -> port(refused);
        case UDP_BLACK_HOLED -> port(holed);
      };
    }

    @Override
    public void close() throws InterruptedException {
      hole.close();
      for (Server server : Arrays.asList(dual, refused, holed)) {
        server.shutdownNow();
        server.awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }
}
