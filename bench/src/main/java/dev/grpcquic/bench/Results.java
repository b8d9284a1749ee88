package dev.grpcquic.bench;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything one run measured on one path, per transport; each raw engine as its own entry
 * ({@code RAW_KWIK}, {@code RAW_QUICHE}). The environment is the run's, shared by the paths of
 * one run.
 */
final class Results {
  final Plan plan;
  final Profile profile;
  final Map<String, Object> environment;
  final Map<Transport, PerTransport> grpc = new EnumMap<>(Transport.class);
  final Map<RawEngine, PerTransport> raw = new EnumMap<>(RawEngine.class);
  /** The emulator's self-check just before the measurements; null on loopback. */
  LinkCheck linkCheck;

  Results(Plan plan, Profile profile, Map<String, Object> environment) {
    this.plan = plan;
    this.profile = profile;
    this.environment = environment;
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

  /** This path's figures; the run's environment is written once, next to all paths. */
  Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    Map<String, Object> path = new LinkedHashMap<>();
    path.put("name", profile.name());
    path.put("description", profile.describe());
    path.put("rttMs", profile.rttMs());
    path.put("mbit", profile.mbit());
    path.put("lossPct", profile.lossPct());
    path.put("queueBytes", profile.emulated() && profile.mbit() > 0 ? profile.effectiveQueueBytes() : null);
    path.put("meanBurstPackets", profile.meanBurstPackets());
    path.put("reorderPct", profile.reorderPct());
    path.put("seed", profile.seed());
    m.put("profile", path);
    m.put("linkCheck", linkCheck == null ? null : linkCheck.toMap());
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
    p.put("bulkCapSeconds", plan.bulkCap().toSeconds());
    p.put("bulkPartial", plan.bulkPartial());
    m.put("plan", p);
    Map<String, Object> t = new LinkedHashMap<>();
    grpc.forEach((k, v) -> t.put(k.name(), v.toMap()));
    raw.forEach((k, v) -> t.put(k.key(), v.toMap()));
    m.put("transports", t);
    return m;
  }
}
