package dev.grpcquic.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The loopback table, JSON and chart with both raw engines beside their gRPC transports. */
class ReportTest {

  @Test
  @Timeout(60)
  void eachQuicTransportIsDividedByItsOwnRawEngine(@TempDir Path dir) throws Exception {
    System.setProperty("java.awt.headless", "true");
    Map<String, Object> env = new LinkedHashMap<>();
    Results r = new Results(Plan.quick(), Profile.LOOPBACK, env);
    r.grpc.put(Transport.QUIC, measured(500, 40));
    r.grpc.put(Transport.QUIC_QUICHE, measured(300, 100));
    r.grpc.put(Transport.NETTY_TLS, measured(200, 400));
    r.raw.put(RawEngine.KWIK, measured(250, 50));
    r.raw.put(RawEngine.QUICHE, measured(150, 200));

    String md = Report.markdown(List.of(r), env, r.plan, Map.of(), null);
    String header = line(md, "| Measurement |");
    assertEquals(List.of("Measurement", "QUIC (grpc-quic)", "QUIC on quiche (grpc-quic)",
        "Netty TCP+TLS", "raw kwik engine", "raw quiche engine", "QUIC ÷ Netty TLS",
        "QUIC ÷ raw kwik", "QUIC on quiche ÷ Netty TLS", "QUIC on quiche ÷ raw quiche"),
        cells(header));
    // p50 500, 300, 200, 250, 150: 500/200, 500/250, 300/200, 300/150
    assertEquals(List.of("Unary 1 KiB, p50 (µs)", "500", "300", "200", "250", "150", "2.50",
        "2.00", "1.50", "2.00"), cells(line(md, "| Unary 1 KiB, p50")));
    assertTrue(line(md, "| Server streaming").endsWith("| 0.10 | 0.80 | 0.25 | 0.50 |"),
        line(md, "| Server streaming"));

    @SuppressWarnings("unchecked")
    Map<String, Object> transports = (Map<String, Object>) r.toMap().get("transports");
    assertEquals(List.of("QUIC", "QUIC_QUICHE", "NETTY_TLS", "RAW_KWIK", "RAW_QUICHE"),
        List.copyOf(transports.keySet()));

    Path png = dir.resolve("chart.png");
    Report.chart(r, png);
    assertTrue(Files.size(png) > 0);
  }

  @Test
  @Timeout(60)
  void withoutRawEnginesOnlyTheNettyRatiosRemain() {
    Map<String, Object> env = new LinkedHashMap<>();
    Results r = new Results(Plan.quick(), Profile.LOOPBACK, env);
    r.grpc.put(Transport.QUIC_QUICHE, measured(300, 100));
    r.grpc.put(Transport.NETTY_TLS, measured(200, 400));
    String md = Report.markdown(List.of(r), env, r.plan, Map.of(), null);
    assertEquals(List.of("Measurement", "QUIC on quiche (grpc-quic)", "Netty TCP+TLS",
        "QUIC on quiche ÷ Netty TLS"), cells(line(md, "| Measurement |")));
    assertFalse(md.contains("÷ raw"));
  }

  @Test
  @Timeout(60)
  void withoutNettyTlsOnlyTheRawRatiosRemain() {
    Map<String, Object> env = new LinkedHashMap<>();
    Results r = new Results(Plan.quick(), Profile.LOOPBACK, env);
    r.grpc.put(Transport.QUIC, measured(500, 40));
    r.raw.put(RawEngine.KWIK, measured(250, 50));
    r.raw.put(RawEngine.QUICHE, measured(150, 200));
    String md = Report.markdown(List.of(r), env, r.plan, Map.of(), null);
    assertEquals(List.of("Measurement", "QUIC (grpc-quic)", "raw kwik engine",
        "raw quiche engine", "QUIC ÷ raw kwik"), cells(line(md, "| Measurement |")));
  }

  /** A transport with a unary p50 of {@code p50Us} and one download at {@code mibPerSecond}. */
  private static Results.PerTransport measured(double p50Us, double mibPerSecond) {
    Results.PerTransport p = new Results.PerTransport();
    p.latency = new LatencyStats(100, p50Us / 2, p50Us, p50Us, 2 * p50Us, 3 * p50Us, 4 * p50Us,
        p50Us);
    p.download = new BulkResult(16L * Plan.MIB);
    p.download.add(new GrpcBench.Transferred(16L * Plan.MIB,
        (long) (16 / mibPerSecond * 1e9), true));
    p.firstCallMicros = 10_000;
    return p;
  }

  private static String line(String md, String start) {
    return md.lines().filter(l -> l.startsWith(start)).findFirst()
        .orElseThrow(() -> new AssertionError("no line " + start + " in\n" + md));
  }

  private static List<String> cells(String row) {
    return Arrays.stream(row.substring(1, row.length() - 1).split("\\|")).map(String::trim)
        .toList();
  }
}
