package dev.grpcquic.bench;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Everything one run measured, per transport; the raw kwik engine as its own entry. */
final class Results {
  static final String RAW_KWIK = "RAW_KWIK";

  final Plan plan;
  final Map<String, Object> environment = new LinkedHashMap<>();
  final Map<Transport, PerTransport> grpc = new EnumMap<>(Transport.class);
  PerTransport rawKwik;

  Results(Plan plan) {
    this.plan = plan;
  }

  /** What was measured for one transport; null fields were not measured. */
  static final class PerTransport {
    String security;
    double firstCallMicros = Double.NaN;
    LatencyStats latency;
    Map<String, Object> throughput;
    BulkResult download;
    BulkResult upload;
    String failure;

    Map<String, Object> toMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("security", security);
      m.put("firstCallIncludingHandshakeUs", firstCallMicros);
      m.put("unaryLatency", latency == null ? null : latency.toMap());
      m.put("unaryThroughput", throughput);
      m.put("serverStreaming", download == null ? null : download.toMap());
      m.put("clientStreaming", upload == null ? null : upload.toMap());
      m.put("failure", failure);
      return m;
    }

    double callsPerSecond() {
      return throughput == null ? Double.NaN : ((Number) throughput.get("callsPerSecond")).doubleValue();
    }
  }

  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("environment", environment);
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("mode", plan.mode());
    p.put("latencyWarmupCalls", plan.latencyWarmupCalls());
    p.put("latencyCalls", plan.latencyCalls());
    p.put("latencyCapSeconds", plan.latencyCap().toSeconds());
    p.put("throughputThreads", plan.throughputThreads());
    p.put("throughputWarmupSeconds", plan.throughputWarmup().toSeconds());
    p.put("throughputMeasureSeconds", plan.throughputMeasure().toSeconds());
    p.put("bulkWarmupBytes", plan.bulkWarmupBytes());
    p.put("bulkBytes", plan.bulkBytes());
    p.put("bulkMessageSize", plan.bulkMessageSize());
    p.put("bulkRuns", plan.bulkRuns());
    p.put("jvmWarmupPass", plan.jvmWarmupPass());
    m.put("plan", p);
    Map<String, Object> t = new LinkedHashMap<>();
    grpc.forEach((k, v) -> t.put(k.name(), v.toMap()));
    if (rawKwik != null) {
      t.put(RAW_KWIK, rawKwik.toMap());
    }
    m.put("transports", t);
    return m;
  }
}
