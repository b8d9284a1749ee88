package dev.grpcquic.metrics;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.PointData;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** An OpenTelemetry SDK with an in-memory reader, and sums over what it collected. */
final class MetricsReader implements AutoCloseable {
  final InMemoryMetricReader reader = InMemoryMetricReader.create();
  final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
      .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
      .build();

  static Predicate<Attributes> where(String key, Object value) {
    return a -> {
      for (Map.Entry<AttributeKey<?>, Object> e : a.asMap().entrySet()) {
        if (e.getKey().getKey().equals(key)) {
          return e.getValue().equals(value);
        }
      }
      return false;
    };
  }

  static Predicate<Attributes> client() {
    return where("quic.role", "client");
  }

  static Predicate<Attributes> server() {
    return where("quic.role", "server");
  }

  /** Points of one metric whose attributes match. */
  List<PointData> points(String name, Predicate<Attributes> filter) {
    return points(reader.collectAllMetrics(), name, filter);
  }

  static List<PointData> points(Collection<MetricData> metrics, String name,
      Predicate<Attributes> filter) {
    List<PointData> result = new ArrayList<>();
    for (MetricData m : metrics) {
      if (m.getName().equals(name)) {
        for (PointData p : m.getData().getPoints()) {
          if (filter.test(p.getAttributes())) {
            result.add(p);
          }
        }
      }
    }
    return result;
  }

  /**
   * The sum over matching points: values of counters and gauges, counts of histograms.
   */
  double sum(String name, Predicate<Attributes> filter) {
    double sum = 0;
    for (PointData p : points(name, filter)) {
      if (p instanceof io.opentelemetry.sdk.metrics.data.LongPointData l) {
        sum += l.getValue();
      } else if (p instanceof io.opentelemetry.sdk.metrics.data.DoublePointData d) {
        sum += d.getValue();
      } else if (p instanceof io.opentelemetry.sdk.metrics.data.HistogramPointData h) {
        sum += h.getCount();
      }
    }
    return sum;
  }

  /** Collects until the sum reaches {@code atLeast} (the caller's @Timeout bounds the wait). */
  double awaitSum(String name, Predicate<Attributes> filter, double atLeast) {
    double sum;
    while ((sum = sum(name, filter)) < atLeast) {
      if (Thread.interrupted()) { // the test's @Timeout: say what never came
        throw new AssertionError(name + " stayed below " + atLeast + ": " + dump(name));
      }
      // Polls a condition (not a sleep standing in for one): short pauses spare the CPU.
      java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
    }
    return sum;
  }

  /** Collects until the sum falls to {@code atMost} (the caller's @Timeout bounds the wait). */
  double awaitSumAtMost(String name, Predicate<Attributes> filter, double atMost) {
    double sum;
    while ((sum = sum(name, filter)) > atMost) {
      if (Thread.interrupted()) {
        throw new AssertionError(name + " stayed above " + atMost + ": " + dump(name));
      }
      // Polls a condition (not a sleep standing in for one): short pauses spare the CPU.
      java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
    }
    return sum;
  }

  /** Every point collected now, for failure messages. */
  String dump(String name) {
    return points(name, a -> true).toString();
  }

  @Override
  public void close() {
    sdk.close();
  }
}
