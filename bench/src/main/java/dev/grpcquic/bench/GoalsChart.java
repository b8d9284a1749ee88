package dev.grpcquic.bench;

import io.grpc.internal.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.CategoryChart;

/**
 * The loopback goals of docs/benchmarks.md at a glance: from the JSON files of several loopback
 * runs, each QUIC engine's figures as ratios to Netty TCP+TLS of the same run (median of the
 * runs), beside the goal.
 *
 * <pre>java -cp bench/target/benchmarks.jar dev.grpcquic.bench.GoalsChart OUT.png RUN.json...</pre>
 */
public final class GoalsChart {
  private GoalsChart() {}

  /** One figure of a run: where it is in the JSON and the quiche goal, as a ratio to Netty TLS. */
  private record Figure(String label, String section, String key, double goal) {}

  private static final List<Figure> LATENCY = List.of(
      new Figure("unary p50", "unaryLatency", "p50Us", 1.0),
      new Figure("unary p99", "unaryLatency", "p99Us", 1.0),
      new Figure("first call", "firstCallIncludingHandshakeUs", null, 0.5));
  private static final List<Figure> THROUGHPUT = List.of(
      new Figure("10 threads, calls/s", "unaryThroughput", "callsPerSecond", 1.0),
      new Figure("100 MiB down", "serverStreaming", "mibPerSecondMedian", 0.35),
      new Figure("100 MiB up", "clientStreaming", "mibPerSecondMedian", 0.35));

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      throw new IllegalArgumentException("usage: GoalsChart OUT.png RUN.json...");
    }
    List<Map<String, ?>> runs = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      runs.add(loopback(Paths.get(args[i])));
    }
    String runsText = runs.size() + " loopback runs";
    CategoryChart latency = chart("Latency, ratio to Netty TCP+TLS (lower is better), median of "
        + runsText, runs, LATENCY);
    CategoryChart throughput = chart("Throughput, ratio to Netty TCP+TLS (higher is better), "
        + "median of " + runsText, runs, THROUGHPUT);
    Report.sideBySide(latency, throughput, Paths.get(args[0]));
  }

  private static CategoryChart chart(String title, List<Map<String, ?>> runs,
      List<Figure> figures) {
    CategoryChart chart = Report.barChart(title, "", "x Netty TCP+TLS");
    chart.getStyler().setDecimalPattern("0.00");
    List<String> labels = figures.stream().map(Figure::label).toList();
    chart.addSeries("QUIC on quiche", labels, medians(runs, figures, "QUIC_QUICHE"));
    chart.addSeries("QUIC on kwik", labels, medians(runs, figures, "QUIC"));
    chart.addSeries("goal (quiche)", labels, figures.stream().map(Figure::goal).toList());
    return chart;
  }

  private static List<Double> medians(List<Map<String, ?>> runs, List<Figure> figures,
      String transport) {
    List<Double> out = new ArrayList<>();
    for (Figure f : figures) {
      List<Double> ratios = new ArrayList<>();
      for (Map<String, ?> run : runs) {
        Double quic = value(run, transport, f);
        Double tls = value(run, "NETTY_TLS", f);
        if (quic != null && tls != null && tls > 0) {
          ratios.add(quic / tls);
        }
      }
      Collections.sort(ratios);
      out.add(ratios.isEmpty() ? 0.0 : ratios.get(ratios.size() / 2));
    }
    return out;
  }

  private static Double value(Map<String, ?> run, String transport, Figure f) {
    Object t = ((Map<?, ?>) run.get("transports")).get(transport);
    if (!(t instanceof Map<?, ?> figures)) {
      return null;
    }
    Object v = figures.get(f.section());
    if (f.key() != null) {
      v = v instanceof Map<?, ?> m ? m.get(f.key()) : null;
    }
    return v instanceof Number n ? n.doubleValue() : null;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, ?> loopback(Path json) throws IOException {
    Map<String, ?> root = (Map<String, ?>) JsonParser.parse(
        Files.readString(json, StandardCharsets.UTF_8));
    for (Object p : (List<?>) root.get("paths")) {
      Map<String, ?> path = (Map<String, ?>) p;
      if ("loopback".equals(((Map<?, ?>) path.get("profile")).get("name"))) {
        return path;
      }
    }
    throw new IllegalArgumentException(json + " has no loopback path");
  }
}
